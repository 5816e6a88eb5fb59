import Foundation
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
        guard frames >= 1 else { throw NowcastIOError.invalidParameter(name: "frames", expected: "at least 1", found: "\(frames)") }
        guard (0...9).contains(deflateLevel) else { throw NowcastIOError.invalidParameter(name: "deflate level", expected: "0 to 9", found: "\(deflateLevel)") }
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
            case .odim: try writeODIM(path, values, time, grid)
            }
            paths.append(path)
            progress(index + 1)
        }
        return paths
    }

    /// Stored value of a rain rate: NaN -> `missing`, else rate / 0.01 rounded.
    private static func packed(_ value: Float, missing: Int) -> Int {
        value.isNaN ? missing : Int((Double(value) / packingStep).rounded())
    }

    private func writeNetCDF(_ path: String, _ values: [Float], _ time: Date, _ grid: Grid) throws {
        let writer = try NetCDFWriter(path: path)
        try writer.addDimension("time", length: 1)
        try writer.addDimension("y", length: rain.ny)
        try writer.addDimension("x", length: rain.nx)
        try writer.addVariable("time", type: .int64, dimensions: ["time"], attributes: Attributes([
            ("standard_name", .text("time")), ("long_name", .text("valid time")),
            ("units", .text("seconds since 1970-01-01 00:00:00")), ("calendar", .text("standard")), ("axis", .text("T")),
        ]))
        try writer.addVariable("y", type: .float64, dimensions: ["y"], attributes: Attributes([
            ("standard_name", .text("projection_y_coordinate")), ("units", .text("m")), ("axis", .text("Y")),
        ]))
        try writer.addVariable("x", type: .float64, dimensions: ["x"], attributes: Attributes([
            ("standard_name", .text("projection_x_coordinate")), ("units", .text("m")), ("axis", .text("X")),
        ]))
        if let mapping = grid.gridMapping {
            try writer.addVariable(mapping.variableName, type: .int32, dimensions: [], attributes: mapping.attributes)
        }
        try writer.addVariable("rainfall_rate", type: .int16, dimensions: ["time", "y", "x"],
                               storage: .init(chunks: [1, rain.ny, rain.nx], deflateLevel: deflateLevel, shuffle: true),
                               attributes: Attributes([
                                   ("standard_name", .text("rainfall_rate")), ("long_name", .text("synthetic radar rain rate")),
                                   ("units", .text("mm h-1")), ("scale_factor", .double(Self.packingStep)),
                                   ("add_offset", .double(0)), ("_FillValue", .numbers(.int16, [-1])),
                                   ("grid_mapping", .text("crs")),
                               ]))
        try writer.setGlobalAttributes(Attributes([
            ("Conventions", .text("CF-1.8")), ("title", .text("NowcastKit synthetic radar rain rate")),
            ("institution", .text("NowcastKit")), ("source", .text("nowcast synth (seed \(rain.seed))")),
            ("history", .text("\(UTCTime.iso8601(Date())) created by nowcast synth")),
        ]))
        try writer.write("time", [Int64(time.timeIntervalSince1970.rounded())])
        try writer.write("y", grid.y)
        try writer.write("x", grid.x)
        try writer.write("rainfall_rate", values.map { Int16(Self.packed($0, missing: -1)) })
        try writer.finish()
    }

    private func writeODIM(_ path: String, _ values: [Float], _ time: Date, _ grid: Grid) throws {
        let projection = try Projection(Self.projection)
        let halfX = Double(rain.nx) / 2 * rain.cellSize, halfY = Double(rain.ny) / 2 * rain.cellSize
        func corner(_ x: Double, _ y: Double) throws -> (Double, Double) {
            let c = try projection.inverse(x: x, y: y)
            return (c.longitude, c.latitude)
        }
        let (ulLon, ulLat) = try corner(-halfX, halfY), (urLon, urLat) = try corner(halfX, halfY)
        let (llLon, llLat) = try corner(-halfX, -halfY), (lrLon, lrLat) = try corner(halfX, -halfY)
        let stamp = UTCTime.iso8601(time).filter(\.isNumber)
        let day = String(stamp.prefix(8)), clock = String(stamp.dropFirst(8).prefix(6))
        let startStamp = UTCTime.iso8601(time.addingTimeInterval(-rain.stepMinutes * 60)).filter(\.isNumber)
        let writer = try HDF5Writer(path: path)
        try writer.setAttributes(Attributes([("Conventions", .text("ODIM_H5/V2_4"))]), on: "/")
        for group in ["/what", "/where", "/how", "/dataset1", "/dataset1/what", "/dataset1/data1", "/dataset1/data1/what"] {
            try writer.createGroup(group)
        }
        try writer.setAttributes(Attributes([
            ("object", .text("COMP")), ("version", .text("H5rad 2.4")), ("date", .text(day)), ("time", .text(clock)),
            ("source", .text("ORG:NowcastKit")),
        ]), on: "/what")
        try writer.setAttributes(Attributes([
            ("projdef", .text(Self.projection)), ("xsize", .int(rain.nx)), ("ysize", .int(rain.ny)),
            ("xscale", .double(rain.cellSize)), ("yscale", .double(rain.cellSize)),
            ("UL_lon", .double(ulLon)), ("UL_lat", .double(ulLat)), ("UR_lon", .double(urLon)), ("UR_lat", .double(urLat)),
            ("LL_lon", .double(llLon)), ("LL_lat", .double(llLat)), ("LR_lon", .double(lrLon)), ("LR_lat", .double(lrLat)),
        ]), on: "/where")
        try writer.setAttributes(Attributes([("software", .text("NowcastKit nowcast synth (seed \(rain.seed))"))]), on: "/how")
        try writer.setAttributes(Attributes([
            ("product", .text("COMP")), ("startdate", .text(String(startStamp.prefix(8)))),
            ("starttime", .text(String(startStamp.dropFirst(8).prefix(6)))), ("enddate", .text(day)), ("endtime", .text(clock)),
        ]), on: "/dataset1/what")
        try writer.setAttributes(Attributes([
            ("quantity", .text("RATE")), ("gain", .double(Self.packingStep)), ("offset", .double(0)),
            ("nodata", .double(65535)), ("undetect", .double(0)),
        ]), on: "/dataset1/data1/what")
        try writer.writeDataset("/dataset1/data1/data", values: values.map { UInt16(Self.packed($0, missing: 65535)) },
                                shape: [rain.ny, rain.nx], storedAs: .uint16, chunks: [rain.ny, rain.nx], deflateLevel: deflateLevel)
        try writer.setAttributes(Attributes([("CLASS", .text("IMAGE")), ("IMAGE_VERSION", .text("1.2"))]), on: "/dataset1/data1/data")
        try writer.finish()
    }
}
