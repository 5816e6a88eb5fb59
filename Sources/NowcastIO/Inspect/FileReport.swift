import Foundation

/// What `nowcast inspect` tells about one file: its format and contents, the field it reads, the
/// grid, and per-frame statistics. Codable for `--json`; NaN statistics encode as null.
public struct FileReport: Codable, Sendable {
    /// One variable or dataset of the file.
    public struct Member: Codable, Sendable {
        /// Name or HDF5 path.
        public var name: String
        /// Stored type (`short`, `float64`, ...).
        public var type: String
        /// Dimensions as `name=length` (NetCDF) or lengths (HDF5).
        public var dimensions: [String]
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
        /// Share of missing (NaN) values.
        public var missingFraction: Double
        /// Share of exact zeros.
        public var zeroFraction: Double
    }

    /// The file's path.
    public var path: String
    /// Format name, e.g. `NetCDF-4 (CF)`, `ODIM_H5/V2_2`.
    public var format: String
    /// Variables (NetCDF) or datasets (HDF5) of the file.
    public var members: [Member]
    /// The field read: variable, dataset or quantity.
    public var field: String
    /// Quantity (standard name or ODIM quantity).
    public var quantity: String
    /// Units of the decoded values.
    public var units: String
    /// How stored values are decoded, in words.
    public var decoding: String
    /// The grid.
    public var grid: Grid
    /// One entry per frame.
    public var frames: [FrameSummary]

    /// Opens `path`, reads every frame and summarises it.
    public init(path: String, options: FieldReadOptions = FieldReadOptions()) throws {
        let file = try openFieldFile(path, options: options)
        self.path = path
        format = file.formatName
        field = file.fieldName
        grid = file.grid
        members = try Self.members(of: file)
        decoding = Self.decoding(of: file)
        var quantity = "", units = ""
        frames = try (0..<file.frameCount).map { index in
            let frame = try file.readFrame(index)
            quantity = frame.quantity
            units = frame.units
            let s = frame.statistics
            func finite(_ v: Double) -> Double? { v.isNaN ? nil : v }
            return FrameSummary(validTime: UTCTime.iso8601(frame.validTime), startTime: frame.startTime.map(UTCTime.iso8601),
                                endTime: frame.endTime.map(UTCTime.iso8601), min: finite(s.min), max: finite(s.max),
                                mean: finite(s.mean), missingFraction: s.missingFraction, zeroFraction: s.zeroFraction)
        }
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

    private static func decoding(of file: FieldFile) -> String {
        func calibration(_ c: Calibration) -> String {
            var parts = ["gain \(formatNumber(c.gain))", "offset \(formatNumber(c.offset))"]
            if let n = c.nodata { parts.append("nodata \(formatNumber(n)) -> NaN") }
            if let u = c.undetect { parts.append("undetect \(formatNumber(u)) -> \(c.undetectValue.map { formatNumber(Double($0)) } ?? "calibrated")") }
            return parts.joined(separator: ", ")
        }
        switch file {
        case let cf as CFFieldFile:
            let p = cf.packing
            var parts = ["stored \(cf.variable.typeName)\(p.unsigned ? " (_Unsigned)" : "")"]
            if p.scale != 1 || p.offset != 0 { parts.append("scale \(formatNumber(p.scale)), offset \(formatNumber(p.offset))") }
            if !p.missingValues.isEmpty { parts.append("missing " + p.missingValues.map(formatNumber).joined(separator: ", ") + " -> NaN") }
            if p.validMin > -.infinity || p.validMax < .infinity {
                parts.append("valid \(formatNumber(p.validMin))..\(formatNumber(p.validMax))")
            }
            return parts.joined(separator: "; ")
        case let odim as ODIMFieldFile:
            return calibration(odim.selected[0].calibration)
        case let generic as HDF5FieldFile:
            return calibration(generic.calibration)
        default:
            return "as read"
        }
    }
}
