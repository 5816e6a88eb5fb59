import Foundation
import NowcastIO
import NowcastCore

/// Writes a synthetic radar archive, one file per time step, as CF NetCDF (int16 rain rate packed
/// with `scale_factor` 0.01 and `_FillValue` -1, like real composites) or ODIM_H5 (uint16 with
/// gain 0.01, nodata 65535, undetect 0). Both formats decode to the same values. The grid is a
/// Lambert azimuthal equal-area projection centred on Belgium, row 0 at the north.
public struct SyntheticArchive {
    /// Output file format.
    public enum Format: String, Sendable, Codable, CaseIterable {
        case netcdf, odim

        /// File-name extension.
        public var fileExtension: String { self == .netcdf ? "nc" : "h5" }
    }

    /// The rain generator settings (size, step, seed, ...).
    public var rain: SyntheticRain.Settings
    /// Number of files (time steps).
    public var frames: Int
    /// Valid time of the first frame.
    public var start: Date
    /// Output format.
    public var format: Format
    /// Deflate level of the data.
    public var deflateLevel: Int = 4

    /// Projection of the synthetic grid.
    public static let projection = "+proj=laea +lat_0=50.5 +lon_0=4.5 +x_0=0 +y_0=0 +ellps=WGS84 +units=m"
    /// Stored value step in mm/h.
    public static let packingStep = 0.01

    public init(rain: SyntheticRain.Settings, frames: Int, start: Date, format: Format) {
        self.rain = rain
        self.frames = frames
        self.start = start
        self.format = format
    }

    /// File name of frame `index`, e.g. `synth_20240601_001500.nc`.
    public func fileName(_ index: Int) -> String {
        let time = start.addingTimeInterval(Double(index) * rain.stepMinutes * 60)
        let iso = UTCTime.iso8601(time)
        let compact = iso.filter(\.isNumber)
        let stamp = String(compact.prefix(8)) + "_" + String(compact.dropFirst(8).prefix(6))
        return "synth_\(stamp).\(format.fileExtension)"
    }

    /// The grid of every frame: x/y cell centres in metres, centred on the projection origin.
    public var grid: Grid {
        let x = (0..<rain.nx).map { (Double($0) - Double(rain.nx - 1) / 2) * rain.cellSize }
        let y = (0..<rain.ny).map { (Double(rain.ny - 1) / 2 - Double($0)) * rain.cellSize }
        return Grid(x: x, y: y, xyUnits: "m", projection: Self.projection, gridMapping: GridMapping(variableName: "crs", attributes: Attributes([
            ("grid_mapping_name", .text("lambert_azimuthal_equal_area")),
            ("latitude_of_projection_origin", .double(50.5)),
            ("longitude_of_projection_origin", .double(4.5)),
            ("false_easting", .double(0)),
            ("false_northing", .double(0)),
            ("semi_major_axis", .double(6_378_137)),
            ("inverse_flattening", .double(298.257223563)),
            ("proj4_params", .text(Self.projection)),
        ])))
    }

    /// Writes every frame into `folder` (created if missing), calling `progress` after each file
    /// with the number done. Returns the paths written. Each file is written atomically.
    @discardableResult
    public func write(to folder: String, progress: (Int) -> Void = { _ in }) throws -> [String] {
        guard frames >= 1 else { throw SyntheticError.invalidParameter(name: "frames", expected: "at least 1", found: "\(frames)") }
        guard (0...9).contains(deflateLevel) else { throw SyntheticError.invalidParameter(name: "deflate level", expected: "0 to 9", found: "\(deflateLevel)") }
        try FileError.createFolder(folder)
        var generator = try SyntheticRain(settings: rain)
        let grid = self.grid
        var paths: [String] = []
        for index in 0..<frames {
            let values = generator.next()
            let time = start.addingTimeInterval(Double(index) * rain.stepMinutes * 60)
            let path = URL(fileURLWithPath: folder).appendingPathComponent(fileName(index)).path
            switch format {
            case .netcdf: try writeNetCDF(path, values, time, grid)
            case .odim: try writeODIM(path, values, time)
            }
            paths.append(path)
            progress(index + 1)
        }
        return paths
    }

    private func writeNetCDF(_ path: String, _ values: [Float], _ time: Date, _ grid: Grid) throws {
        try CFRainRateWriter.write(values, grid: grid, time: time, to: path, step: Self.packingStep, deflateLevel: deflateLevel,
                                   longName: "synthetic radar rain rate", globals: Attributes([
                                       ("Conventions", .text("CF-1.8")), ("title", .text("NowcastKit synthetic radar rain rate")),
                                       ("institution", .text("NowcastKit")), ("source", .text("nowcast synth (seed \(rain.seed))")),
                                       ("history", .text("\(UTCTime.iso8601(Date())) created by nowcast synth")),
                                   ]))
    }

    private func writeODIM(_ path: String, _ values: [Float], _ time: Date) throws {
        try ODIMRainRateWriter.write(values, geometry: .init(projection: Self.projection, ny: rain.ny, nx: rain.nx, cellSize: rain.cellSize),
                                     time: time, start: time.addingTimeInterval(-rain.stepMinutes * 60), to: path, gain: Self.packingStep,
                                     deflateLevel: deflateLevel, software: "NowcastKit nowcast synth (seed \(rain.seed))")
    }
}
