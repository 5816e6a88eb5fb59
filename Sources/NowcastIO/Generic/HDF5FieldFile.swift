import Foundation

/// A field in an HDF5 file that is neither CF nor ODIM: a 2-D dataset (or `(1, y, x)`) named by path,
/// with the calibration, units and valid-time source given by the caller.
public final class HDF5FieldFile: FieldFile {
    public let path: String
    public var formatName: String { "HDF5 (generic)" }
    public let fieldName: String
    public let grid: Grid
    public let validTimes: [Date]
    /// The calibration applied to stored values.
    public var calibration: Calibration { options.calibration }
    private let options: FieldReadOptions
    private let file: HDF5File
    private let storedType: ScalarType

    /// Opens `options.hdf5Dataset` in `path`; the valid time comes from `options.timeAttribute`
    /// (`OBJECT@NAME`) or `options.timeFromFileName`.
    public init(path: String, options: FieldReadOptions) throws {
        guard let dataset = options.hdf5Dataset else {
            throw NowcastIOError.invalidOption(path: path, detail: "a generic HDF5 field needs a dataset path (--dataset)")
        }
        file = try HDF5File(path: path)
        self.path = path
        self.options = options
        fieldName = dataset
        let info = try file.datasetInfo(dataset)
        guard let type = info.type else {
            throw NowcastIOError.unexpectedShape(path: path, variable: dataset, expected: "a numeric dataset", found: "a non-numeric type")
        }
        let shape = info.shape.drop { $0 == 1 && info.shape.count > 2 }
        guard shape.count == 2 else {
            throw NowcastIOError.unexpectedShape(path: path, variable: dataset, expected: "a 2-D dataset (y, x)", found: "shape \(info.shape)")
        }
        storedType = type
        grid = Grid.indices(ny: shape[shape.startIndex], nx: shape[shape.startIndex + 1])
        validTimes = [try Self.validTime(file, options: options, dataset: dataset)]
    }

    public func readFrame(_ index: Int) throws -> Frame {
        try checkIndex(index)
        var values = [Float](repeating: 0, count: grid.ny * grid.nx)
        try values.withUnsafeMutableBufferPointer { output in
            if storedType.isExactInFloat32 {
                try file.readFloats(fieldName).withUnsafeBufferPointer { options.calibration.apply($0, into: output) }
            } else {
                try file.readDoubles(fieldName).withUnsafeBufferPointer { options.calibration.apply($0, into: output) }
            }
        }
        return Frame(values: values, grid: grid, validTime: validTimes[0], units: options.units ?? "1",
                     quantity: options.quantity ?? URL(fileURLWithPath: fieldName).lastPathComponent,
                     sourcePath: path, sourceVariable: fieldName)
    }

    private static func validTime(_ file: HDF5File, options: FieldReadOptions, dataset: String) throws -> Date {
        let path = file.path
        if let spec = options.timeAttribute {
            let parts = spec.split(separator: "@", maxSplits: 1).map(String.init)
            guard parts.count == 2 else {
                throw NowcastIOError.invalidOption(path: path, detail: "time attribute '\(spec)' is not of the form OBJECT@NAME, e.g. /what@time")
            }
            guard let value = try file.attributes(of: parts[0])[parts[1]] else {
                throw NowcastIOError.badAttribute(path: path, object: parts[0], attribute: parts[1], expected: "a valid-time attribute")
            }
            switch value {
            case let .numbers(_, numbers):
                guard let seconds = numbers.first, seconds.isFinite else {
                    throw NowcastIOError.badTime(path: path, variable: spec, detail: "not a number of seconds since 1970")
                }
                return Date(timeIntervalSince1970: seconds)
            case .text, .texts:
                let text = value.stringValue ?? ""
                let parsed = options.timeFormat.flatMap { $0.firstDate(in: text) } ?? UTCTime.parse(text)
                    ?? (try? TimePattern("%Y%m%d%H%M%S"))?.firstDate(in: text)
                guard let date = parsed else {
                    throw NowcastIOError.badTime(path: path, variable: spec,
                                                 detail: "'\(text)' does not match \(options.timeFormat.map { "'\($0)'" } ?? "ISO 8601 or YYYYmmddHHMMSS")")
                }
                return date
            }
        }
        if let pattern = options.timeFromFileName {
            let name = URL(fileURLWithPath: path).lastPathComponent
            guard let date = pattern.firstDate(in: name) else {
                throw NowcastIOError.badTime(path: path, variable: dataset, detail: "file name does not match time pattern '\(pattern)'")
            }
            return date
        }
        throw NowcastIOError.badTime(path: path, variable: dataset,
                                     detail: "no valid time: give a time attribute (--time-attribute OBJECT@NAME) or a file-name pattern (--time-from-filename)")
    }
}
