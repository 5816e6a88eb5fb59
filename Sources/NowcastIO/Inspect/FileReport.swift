import Foundation

/// What `nowcast inspect` tells about one file: its format and contents, the field it reads and
/// how, where its times and its projection came from, what the reader noticed, and per-frame
/// statistics. Its JSON form (`--json`) is the documented schema `nowcast.inspect/1` (README):
/// keys are only ever added to it; NaN statistics are null, attribute values plain JSON.
public struct FileReport: Codable, Sendable {
    /// The schema of the JSON form.
    public static let schemaName = "nowcast.inspect/1"

    /// One variable or dataset of the file.
    public struct Member: Codable, Sendable {
        /// Name or HDF5 path.
        public var name: String
        /// Stored type (`short`, `float64`, ...).
        public var type: String
        /// Dimensions as `name=length` (NetCDF) or lengths (HDF5).
        public var dimensions: [String]
    }

    /// The grid, summarised (the coordinates of the first and last cells, not all of them).
    public struct GridReport: Codable, Sendable {
        public var ny: Int
        public var nx: Int
        /// Units of x and y: `m`, `km`, or `1` for cell indices.
        public var xyUnits: String
        /// Cell width and height.
        public var dx: Double
        public var dy: Double
        /// Cell-centre coordinates of the first and last columns and rows.
        public var xFirst: Double?
        public var xLast: Double?
        public var yFirst: Double?
        public var yLast: Double?
        /// The PROJ definition, and where it came from.
        public var projection: String?
        public var projectionSource: String?
        /// The CF grid-mapping variable's name and attributes.
        public var gridMapping: GridMapping?
        /// One line, e.g. `512 x 512, cells 1 x 1 km, x -255.5..255.5, y ...`.
        public var summary: String

        init(_ grid: Grid) {
            summary = grid.summary
            (ny, nx, xyUnits, dx, dy) = (grid.ny, grid.nx, grid.xyUnits, grid.dx, grid.dy)
            (xFirst, xLast, yFirst, yLast) = (grid.x.first, grid.x.last, grid.y.first, grid.y.last)
            (projection, projectionSource, gridMapping) = (grid.projection, grid.projectionSource, grid.gridMapping)
        }
    }

    /// One frame's time and statistics.
    public struct FrameSummary: Codable, Sendable {
        /// Valid time, ISO 8601 UTC.
        public var validTime: String
        /// Start of the period, when known.
        public var startTime: String?
        /// End of the period, when known.
        public var endTime: String?
        /// Smallest valid value; nil when all are missing.
        public var min: Double?
        /// Largest valid value; nil when all are missing.
        public var max: Double?
        /// Mean of valid values; nil when all are missing.
        public var mean: Double?
        /// Share of missing (NaN) values, non-finite ones included.
        public var missingFraction: Double
        /// Share of exact zeros.
        public var zeroFraction: Double
        /// Stored NaN or infinite values the format calls valid, read as missing.
        public var nonFinite: Int
    }

    /// `nowcast.inspect/1`.
    public var schema = FileReport.schemaName
    /// The file's path.
    public var path: String
    /// Format name, e.g. `NetCDF-4 (CF)`, `ODIM_H5/V2_2`, `HDF5 (KNMI)`.
    public var format: String
    /// Variables (NetCDF) or datasets (HDF5) of the file.
    public var members: [Member]
    /// The field read: variable, dataset or quantity.
    public var field: String
    /// Quantity (standard name or ODIM quantity).
    public var quantity: String
    /// Units of the decoded values.
    public var units: String
    /// How stored values are decoded, in words (`raw values, no calibration found` when they are not).
    public var decoding: String
    /// Where the valid times came from.
    public var timeSource: String
    /// The file's global attributes.
    public var attributes: Attributes
    /// The grid.
    public var grid: GridReport
    /// What the reader noticed and chose, one line each.
    public var warnings: [String]
    /// One entry per frame.
    public var frames: [FrameSummary]

    /// Opens `path`, reads every frame and summarises it.
    public init(path: String, options: FieldReadOptions = FieldReadOptions()) throws {
        let file = try openFieldFile(path, options: options)
        self.path = path
        format = file.formatName
        field = file.fieldName
        grid = GridReport(file.grid)
        members = try Self.members(of: file)
        decoding = file.decoding
        timeSource = file.timeSource
        attributes = file.globalAttributes
        var quantity = "", units = "", nonFinite = 0
        frames = try (0..<file.frameCount).map { index in
            let frame = try file.readFrame(index)
            quantity = frame.quantity
            units = frame.units
            nonFinite += frame.nonFiniteCount
            let s = frame.statistics
            func finite(_ v: Double) -> Double? { v.isNaN ? nil : v }
            return FrameSummary(validTime: UTCTime.iso8601(frame.validTime), startTime: frame.startTime.map(UTCTime.iso8601),
                                endTime: frame.endTime.map(UTCTime.iso8601), min: finite(s.min), max: finite(s.max),
                                mean: finite(s.mean), missingFraction: s.missingFraction, zeroFraction: s.zeroFraction,
                                nonFinite: frame.nonFiniteCount)
        }
        warnings = file.warnings
        if nonFinite > 0 { warnings.append("\(nonFinite) stored values are NaN or infinite where the format says they are valid: read as missing") }
        self.quantity = quantity
        self.units = units
    }

    private static func members(of file: FieldFile) throws -> [Member] {
        switch file {
        case let cf as CFFieldFile:
            return try NetCDFFile(path: cf.path).allVariables().map {
                Member(name: $0.pathName, type: $0.typeName, dimensions: $0.dimensions.map { "\($0.name)=\($0.length)" })
            }
        default:
            let hdf5 = try HDF5File(path: file.path)
            return try hdf5.allDatasets().map { dataset in
                let info = try hdf5.datasetInfo(dataset)
                return Member(name: dataset, type: info.type?.rawValue ?? "non-numeric", dimensions: info.shape.map(String.init))
            }
        }
    }
}
