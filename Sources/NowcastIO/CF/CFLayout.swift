import Foundation

/// How a CF field is laid out in a NetCDF-4 file: enough to read other files of the same archive
/// through HDF5 alone. netCDF-C 4.9 keeps about 2 KB per `nc_open`/`nc_close` (Unidata/netcdf-c#2626),
/// which grows without bound over an archive; HDF5's own open and close do not.
public struct CFLayout: Equatable, Sendable {
    public var fieldName: String
    public var shape: [Int]
    public var storedType: ScalarType
    /// The stored type as `ncdump` names it.
    public var typeName: String
    public var timeAxis: Int?
    public var packing: CFPacking
    public var timeVariable: String
    public var timeUnits: String
    public var calendar: String?
    public var startVariable: String?
    public var startUnits: String?
    public var xVariable: String?
    public var yVariable: String?
    public var grid: Grid
    public var units: String
    public var quantity: String
    public var formatName: String
}

/// A CF field read through HDF5 alone, by a layout learned from another file of the archive. Every
/// part of the layout is checked (dataset shape and type, packing attributes, time units, grid
/// coordinates); a file that differs is refused with `.invalidOption`, and the caller reads it with
/// `CFFieldFile` instead.
public final class CFLayoutFieldFile: FieldFile {
    public let path: String
    public let layout: CFLayout
    public let validTimes: [Date]
    private let startTimes: [Date?]
    private let reader: DirectChunkReader

    public var formatName: String { layout.formatName }
    public var fieldName: String { layout.fieldName }
    public var grid: Grid { layout.grid }
    public var timeSource: String { "variable '\(layout.timeVariable)'" }
    public var decoding: String { layout.packing.summary(typeName: layout.typeName) }
    public let globalAttributes: Attributes
    public var warnings: [String] { [] }

    /// Opens `path` by `layout`; throws when the file does not match it.
    public init(path: String, layout: CFLayout) throws {
        self.path = path
        self.layout = layout
        let file = try HDF5File(path: path)
        // netCDF hides its own bookkeeping attributes; so does this reader.
        globalAttributes = Attributes(try file.attributes(of: "/").entries.filter { !$0.name.hasPrefix("_NC") && !$0.name.hasPrefix("_nc") })
        func refuse(_ why: String) -> NowcastIOError { .invalidOption(path: path, detail: "does not match the archive's layout: \(why)") }
        let dataset = "/" + layout.fieldName
        let info = try file.datasetInfo(dataset)
        guard info.type == layout.storedType, info.shape.count == layout.shape.count,
              zip(info.shape, layout.shape).enumerated().allSatisfy({ $0.offset == layout.timeAxis || $0.element.0 == $0.element.1 })
        else { throw refuse("'\(layout.fieldName)' has shape \(info.shape)") }
        let attributes = try file.attributes(of: dataset)
        guard try CFPacking(attributes: attributes, storedType: layout.storedType, path: path, variable: layout.fieldName) == layout.packing,
              (attributes["units"]?.stringValue ?? "1") == layout.units
        else { throw refuse("the packing or units of '\(layout.fieldName)' differ") }
        func times(_ variable: String, units expected: String?) throws -> [Date] {
            guard (try file.attributes(of: "/" + variable))["units"]?.stringValue == expected else { throw refuse("the units of '\(variable)' differ") }
            let units = try CFTimeUnits(units: expected ?? "", calendar: layout.calendar)
            let dates = try file.readDoubles("/" + variable).map(units.date)
            guard dates.allSatisfy(UTCTime.isRepresentable) else { throw refuse("the times of '\(variable)' are outside the years 1 to 9999") }
            return dates
        }
        validTimes = try times(layout.timeVariable, units: layout.timeUnits)
        let frames = layout.timeAxis.map { info.shape[$0] } ?? 1
        guard validTimes.count == frames else { throw refuse("\(validTimes.count) times for \(frames) frames") }
        startTimes = try layout.startVariable.map { name in try times(name, units: layout.startUnits).map { Optional($0) } } ?? Array(repeating: nil, count: frames)
        for (name, expected) in [(layout.xVariable, layout.grid.x), (layout.yVariable, layout.grid.y)] {
            guard let name else { continue }
            guard try file.readDoubles("/" + name) == expected else { throw refuse("the grid coordinates '\(name)' differ") }
        }
        guard let reader = DirectChunkReader(path: path, datasetPath: dataset, shape: info.shape, frameAxis: layout.timeAxis,
                                             storedType: layout.storedType) else { throw refuse("its chunks are not one frame each") }
        self.reader = reader
    }

    public func readFrame(_ index: Int) throws -> Frame {
        try checkIndex(index)
        var values = [Float](repeating: 0, count: grid.ny * grid.nx)
        guard let stored = try reader.compressedFrame(index) else {
            // A chunk never written holds the fill value: the netCDF library path reads it.
            return try CFFieldFile(path: path, options: FieldReadOptions(variable: layout.fieldName)).readFrame(index)
        }
        var scratch: [UInt8] = []
        let nonFinite = try values.withUnsafeMutableBufferPointer { frame in
            try decodeStoredUnit(stored, reader: reader, packing: layout.packing, into: frame, scratch: &scratch)
        }
        return Frame(values: values, grid: grid, validTime: validTimes[index], startTime: startTimes[index],
                     endTime: startTimes[index] == nil ? nil : validTimes[index], units: layout.units, quantity: layout.quantity,
                     sourcePath: path, sourceVariable: layout.fieldName, nonFiniteCount: nonFinite)
    }
}
