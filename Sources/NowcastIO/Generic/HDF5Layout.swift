import Foundation

/// How a field is laid out in an HDF5 file that is neither CF nor ODIM: the dataset, how its stored
/// values are calibrated, where its valid time and its grid come from. Made from the caller's
/// options (`init(options:path:)`) or recognised in the file (`KNMILayout`).
public struct HDF5Layout: Equatable, Sendable {
    /// Where a valid time is read.
    public enum TimeSource: Equatable, Sendable {
        /// An attribute, in a layout (nil: ISO 8601, digits or seconds since 1970).
        case attribute(AttributeReference, format: TimePattern?)
        /// The file name, by a pattern.
        case fileName(TimePattern)
    }

    /// A grid placed by its projection and upper-left corner.
    public struct CornerGrid: Equatable, Sendable {
        /// The PROJ definition.
        public var projection: String
        /// Where the definition came from, for reports.
        public var projectionSource: String
        /// Longitude and latitude of the upper-left corner of the upper-left cell, degrees.
        public var upperLeft: (longitude: Double, latitude: Double)
        /// Cell width and height in the projection's units.
        public var cellWidth: Double
        public var cellHeight: Double
        /// The projection's units, `m` or `km`.
        public var xyUnits: String

        public static func == (a: CornerGrid, b: CornerGrid) -> Bool {
            a.projection == b.projection && a.projectionSource == b.projectionSource && a.upperLeft == b.upperLeft
                && a.cellWidth == b.cellWidth && a.cellHeight == b.cellHeight && a.xyUnits == b.xyUnits
        }
    }

    /// The format's name in reports, e.g. `HDF5 (KNMI)`.
    public var formatName: String
    /// The dataset read, e.g. `/image1/image_data`.
    public var dataset: String
    /// The calibration of stored values.
    public var calibration: Calibration
    /// How the calibration was found, for reports (`raw values, no calibration found` when none was).
    public var calibrationSource: String
    /// Units of the calibrated values.
    public var units: String
    /// What the field is.
    public var quantity: String
    /// Where the valid time comes from.
    public var time: TimeSource
    /// Where the start of the period comes from, when the layout says.
    public var start: TimeSource?
    /// How the grid is placed; nil for cell indices.
    public var grid: CornerGrid?

    /// The words reports use for a field read with no calibration at all.
    public static let noCalibration = "raw values, no calibration found"

    /// The layout the caller's options describe (`--dataset`, `--gain`, `--offset`, `--nodata`,
    /// `--undetect`, `--units`, `--time-attribute` with `--time-format`, or `--time-from-filename`).
    public init(options: FieldReadOptions, path: String) throws {
        guard let dataset = options.hdf5Dataset else {
            throw NowcastIOError.invalidOption(path: path, detail: "a generic HDF5 field needs a dataset path (--dataset)")
        }
        formatName = "HDF5 (generic)"
        self.dataset = dataset
        calibration = options.calibration
        calibrationSource = options.calibration.isIdentity ? Self.noCalibration : "\(options.calibration.summary) (given)"
        units = options.units ?? "1"
        quantity = options.quantity ?? URL(fileURLWithPath: dataset).lastPathComponent
        if let attribute = options.timeAttribute {
            time = .attribute(attribute, format: options.timeFormat)
        } else if let pattern = options.timeFromFileName {
            time = .fileName(pattern)
        } else {
            throw NowcastIOError.badTime(path: path, variable: dataset,
                                         detail: "no valid time: give a time attribute (--time-attribute OBJECT@NAME) or a file-name pattern (--time-from-filename)")
        }
        start = nil
        grid = nil
    }

    /// A layout given in full (what recognisers such as `KNMILayout` make).
    public init(formatName: String, dataset: String, calibration: Calibration, calibrationSource: String, units: String, quantity: String,
                time: TimeSource, start: TimeSource?, grid: CornerGrid?) {
        self.formatName = formatName
        self.dataset = dataset
        self.calibration = calibration
        self.calibrationSource = calibrationSource
        self.units = units
        self.quantity = quantity
        self.time = time
        self.start = start
        self.grid = grid
    }
}
