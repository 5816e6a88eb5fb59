import Foundation

/// A field in an HDF5 file that is neither CF nor ODIM: a 2-D dataset (or `(1, y, x)`) read by an
/// `HDF5Layout`, given by the caller's options or recognised in the file (KNMI's radar files).
public final class HDF5FieldFile: FieldFile {
    public let path: String
    public var formatName: String { layout.formatName }
    public var fieldName: String { layout.dataset }
    public let grid: Grid
    public let validTimes: [Date]
    public let timeSource: String
    public let globalAttributes: Attributes
    public var decoding: String { layout.calibrationSource }
    public var warnings: [String] {
        layout.calibration.isIdentity ? ["\(HDF5Layout.noCalibration): give --gain, --offset and --nodata if the stored values are counts"] : []
    }
    /// The layout read by.
    public let layout: HDF5Layout
    /// The calibration applied to stored values.
    public var calibration: Calibration { layout.calibration }
    private let startTime: Date?
    private let file: HDF5File
    private let storedType: ScalarType

    /// Opens `path` by the layout `options` describe (`options.hdf5Dataset` and the rest).
    public convenience init(path: String, options: FieldReadOptions) throws {
        try self.init(file: HDF5File(path: path), layout: HDF5Layout(options: options, path: path))
    }

    /// Opens `file` by `layout`.
    public init(file: HDF5File, layout: HDF5Layout) throws {
        self.file = file
        let path = file.path
        self.path = path
        self.layout = layout
        let dataset = layout.dataset
        let info = try file.datasetInfo(dataset)
        guard let type = info.type else {
            throw NowcastIOError.unexpectedShape(path: path, variable: dataset, expected: "a numeric dataset", found: "a non-numeric type")
        }
        let shape = info.shape.drop { $0 == 1 && info.shape.count > 2 }
        guard shape.count == 2 else {
            throw NowcastIOError.unexpectedShape(path: path, variable: dataset, expected: "a 2-D dataset (y, x)", found: "shape \(info.shape)")
        }
        storedType = type
        let (ny, nx) = (shape[shape.startIndex], shape[shape.startIndex + 1])
        if let corner = layout.grid { grid = try Self.place(corner, ny: ny, nx: nx, path: path) } else { grid = Grid.indices(ny: ny, nx: nx) }
        globalAttributes = try file.attributes(of: "/")
        let (valid, source) = try Self.time(layout.time, file: file, dataset: dataset)
        validTimes = [valid]
        timeSource = source
        startTime = try layout.start.map { try Self.time($0, file: file, dataset: dataset).date }
    }

    public func readFrame(_ index: Int) throws -> Frame {
        try checkIndex(index)
        var values = [Float](repeating: 0, count: grid.ny * grid.nx)
        let nonFinite = try values.withUnsafeMutableBufferPointer { output -> Int in
            if storedType.isExactInFloat32 {
                return try file.readFloats(fieldName).withUnsafeBufferPointer { layout.calibration.apply($0, into: output) }
            }
            return try file.readDoubles(fieldName).withUnsafeBufferPointer { layout.calibration.apply($0, into: output) }
        }
        return Frame(values: values, grid: grid, validTime: validTimes[0], startTime: startTime, endTime: startTime == nil ? nil : validTimes[0],
                     units: layout.units, quantity: layout.quantity, sourcePath: path, sourceVariable: fieldName, nonFiniteCount: nonFinite)
    }

    /// Cell centres from the upper-left corner, row 0 at the top.
    private static func place(_ corner: HDF5Layout.CornerGrid, ny: Int, nx: Int, path: String) throws -> Grid {
        let origin: (x: Double, y: Double)
        do {
            origin = try Projection(corner.projection).forward(longitude: corner.upperLeft.longitude, latitude: corner.upperLeft.latitude)
        } catch {
            throw NowcastIOError.badAttribute(path: path, object: corner.projectionSource, attribute: "projection",
                                              expected: "a PROJ definition that places the upper-left corner (\(error))")
        }
        let x = (0..<nx).map { origin.x + (Double($0) + 0.5) * corner.cellWidth }
        let y = (0..<ny).map { origin.y - (Double($0) + 0.5) * corner.cellHeight }
        return Grid(x: x, y: y, xyUnits: corner.xyUnits, projection: corner.projection, projectionSource: corner.projectionSource)
    }

    private static func time(_ source: HDF5Layout.TimeSource, file: HDF5File, dataset: String) throws -> (date: Date, source: String) {
        let path = file.path
        switch source {
        case let .attribute(reference, format):
            let object = reference.isRoot ? "/" : reference.object
            guard file.exists(object) || object == "/", let value = try file.attributes(of: object)[reference.name] else {
                throw NowcastIOError.badAttribute(path: path, object: object, attribute: reference.name, expected: "a valid-time attribute")
            }
            guard let date = AttributeTime.date(value, format: format) else {
                throw NowcastIOError.badTime(path: path, variable: reference.description,
                                             detail: "\(value.rendered) is not \(AttributeTime.expectedForm(format))")
            }
            return (date, "attribute \(reference)")
        case let .fileName(pattern):
            let name = URL(fileURLWithPath: path).lastPathComponent
            guard let date = pattern.firstDate(in: name) else {
                throw NowcastIOError.badTime(path: path, variable: dataset, detail: "file name does not match time pattern '\(pattern)'")
            }
            return (date, "file name (\(pattern))")
        }
    }
}
