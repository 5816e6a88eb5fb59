import Foundation

/// A forecast product in CF NetCDF, read one (member, lead time) field at a time: NowcastKit's own
/// products (`CFProductWriter`: `(realization, time, y, x)` with `forecast_reference_time`),
/// IMPROVER-style files, deterministic `(time, y, x)` forecasts, and pySTEPS's NetCDF exporter
/// (`(ens_number, time, y, x)` with time in "minutes since <reference time>").
///
/// The reference time comes from a `forecast_reference_time` variable (by name or standard name);
/// failing that, from valid time minus a `forecast_period` variable; failing that, from the time
/// units' epoch when the valid times are whole multiples of their spacing after it and that spacing
/// is at most 6 hours, as pySTEPS writes them (an observation's "seconds since 1970" is not taken
/// for a forecast from 1970). A file with none of these is refused: scores need to know which lead each field is.
public final class CFForecastFile {
    public let path: String
    /// The forecast variable read.
    public let variable: NetCDFVariable
    public let grid: Grid
    /// Units of the decoded values.
    public let units: String
    /// Standard name, long name or variable name.
    public let quantity: String
    public let referenceTime: Date
    /// Valid time of each lead, in order.
    public let validTimes: [Date]
    /// The members' numbers (`realization` values, or 0..<M).
    public let realizations: [Int]
    /// Where the reference time came from, in words.
    public let referenceSource: String
    public let globalAttributes: Attributes
    /// Decode chunks in Swift where the layout allows; false forces the netCDF library, the reference.
    public var directChunkReads = true
    /// True when fields can be read by direct chunk decoding (NetCDF-4, one field per chunk).
    public var supportsDirectChunkReads: Bool { directReader != nil }
    private let packing: CFPacking
    private let memberAxis: Bool
    /// Decodes a field's chunk in Swift (libdeflate, outside the library lock) where the product is
    /// NetCDF-4 with one field per chunk, as NowcastKit writes it; the library reads it otherwise.
    private let directReader: DirectChunkReader?

    /// Members in the file (1 for a deterministic forecast).
    public var members: Int { realizations.count }
    /// Lead times in the file.
    public var leadTimes: Int { validTimes.count }
    /// Seconds from the reference time to each lead's valid time.
    public var leadSeconds: [Double] { validTimes.map { $0.timeIntervalSince(referenceTime) } }

    /// Opens `path` and finds the forecast variable (`variable`, or the one ensemble or time-series
    /// field that is not an ensemble statistic or a probability).
    public init(path: String, variable name: String? = nil) throws {
        let file = try NetCDFFile(path: path)
        self.path = path
        let variables = try file.allVariables()
        let chosen = try name.map { try file.variable($0) } ?? Self.selectForecast(among: variables, path: path)
        variable = chosen
        let dims = chosen.dimensions
        guard let storedType = chosen.type, dims.count == 3 || dims.count == 4 else {
            throw NowcastIOError.unexpectedShape(path: path, variable: chosen.pathName, expected: "a numeric (time, y, x) or (realization, time, y, x) variable",
                                                 found: "\(chosen.typeName) (\(CFFieldFile.render(dims)))")
        }
        let timeDim = dims[dims.count - 3]
        guard CFFieldFile.isTime(timeDim, variables: variables), let timeVariable = CFFieldFile.coordinate(timeDim, in: variables) else {
            throw NowcastIOError.badTime(path: path, variable: chosen.pathName,
                                         detail: "the forecast has no time coordinate (dimension '\(timeDim.name)' has no variable with '<unit> since <date>' units); a forecast needs valid times")
        }
        memberAxis = dims.count == 4
        directReader = try file.formatName().hasPrefix("NetCDF-4") && !chosen.pathName.contains("/")
            ? DirectChunkReader(path: path, datasetPath: "/" + chosen.pathName, shape: chosen.shape, frameAxis: dims.count - 3, storedType: storedType)
            : nil
        packing = try CFPacking(attributes: chosen.attributes, storedType: storedType, path: path, variable: chosen.pathName)
        units = chosen.attributes["units"]?.stringValue ?? "1"
        quantity = chosen.attributes["standard_name"]?.stringValue ?? chosen.attributes["long_name"]?.stringValue ?? chosen.name
        globalAttributes = try file.root.attributes()
        var warnings: [String] = []
        grid = try CFFieldFile.grid(of: chosen, variables: variables, file: file, globals: globalAttributes, warnings: &warnings)
        let (timeUnits, valid) = try CFFieldFile.decode(timeVariable, path: path)
        validTimes = valid
        if memberAxis {
            let memberDim = dims[0]
            if let coordinate = CFFieldFile.coordinate(memberDim, in: variables) {
                let values = try coordinate.readAllDoubles()
                guard values.allSatisfy({ $0.isFinite && $0 == $0.rounded() && abs($0) < 1e9 }) else {
                    throw NowcastIOError.badAttribute(path: path, object: coordinate.pathName, attribute: "values", expected: "whole member numbers")
                }
                realizations = values.map { Int($0) }
            } else {
                realizations = Array(0..<memberDim.length)
            }
        } else {
            realizations = [0]
        }
        (referenceTime, referenceSource) = try Self.reference(variables: variables, valid: valid, timeUnits: timeUnits, timeName: timeVariable.pathName, path: path)
        if let early = valid.firstIndex(where: { $0 <= referenceTime }) {
            throw NowcastIOError.badTime(path: path, variable: timeVariable.pathName,
                                         detail: "lead \(early + 1) is valid at \(UTCTime.iso8601(valid[early])), not after the reference time \(UTCTime.iso8601(referenceTime))")
        }
    }

    /// Reads member index `member` (0-based position, not its realization number) at lead index
    /// `lead` into `buffer` (`ny * nx` values); missing values become NaN. Safe to call from several
    /// threads at once.
    public func read(member: Int, lead: Int, into buffer: UnsafeMutableBufferPointer<Float>) throws {
        let (ny, nx) = (grid.ny, grid.nx)
        guard (0..<members).contains(member), (0..<leadTimes).contains(lead), buffer.count >= ny * nx else {
            throw NowcastIOError.invalidOption(path: path, detail: "member \(member), lead \(lead) requested; the file has \(members) x \(leadTimes)")
        }
        let plane = UnsafeMutableBufferPointer(rebasing: buffer[0..<(ny * nx)])
        if directChunkReads, let reader = directReader, let stored = try reader.compressedFrame(lead, leading: memberAxis ? [member] : []) {
            var bytes: [UInt8] = []
            _ = try decodeStoredUnit(stored, reader: reader, packing: packing, into: plane, scratch: &bytes)
            return
        }
        let (start, count) = memberAxis ? ([member, lead, 0, 0], [1, 1, ny, nx]) : ([lead, 0, 0], [1, ny, nx])
        if packing.decodesInFloat {
            try variable.read(into: plane, start: start, count: count)
            _ = packing.decode(inPlace: plane)
            return
        }
        var raw = [Double](repeating: 0, count: plane.count)
        try raw.withUnsafeMutableBufferPointer { raw in
            try variable.read(into: raw, start: start, count: count)
            _ = packing.decode(UnsafeBufferPointer(raw), into: plane)
        }
    }

    /// The fields of every member at lead index `lead`.
    public func ensemble(lead: Int) throws -> [[Float]] {
        try (0..<members).map { member in
            var field = [Float](repeating: .nan, count: grid.ny * grid.nx)
            try field.withUnsafeMutableBufferPointer { try read(member: member, lead: lead, into: $0) }
            return field
        }
    }

    // MARK: - Choosing the variable

    /// The forecast among the file's variables: 3-D or 4-D numeric with a time dimension third from
    /// last, leaving out ensemble statistics (`cell_methods`) and probabilities.
    static func selectForecast(among variables: [NetCDFVariable], path: String) throws -> NetCDFVariable {
        func isForecast(_ v: NetCDFVariable) -> Bool {
            guard v.type != nil, v.dimensions.count == 3 || v.dimensions.count == 4,
                  CFFieldFile.isTime(v.dimensions[v.dimensions.count - 3], variables: variables),
                  v.attributes["cell_methods"] == nil, !v.name.hasPrefix("probability_of_") else { return false }
            return v.dimensions.suffix(2).allSatisfy { $0.length > 1 }
        }
        let candidates = variables.filter(isForecast)
        // An ensemble beside a deterministic copy: the ensemble.
        let ensembles = candidates.filter { $0.dimensions.count == 4 }
        if ensembles.count == 1 { return ensembles[0] }
        if candidates.count == 1 { return candidates[0] }
        if candidates.isEmpty {
            let timeless = variables.contains { $0.type != nil && $0.dimensions.count >= 3 }
            if timeless {
                throw NowcastIOError.badTime(path: path, variable: variables.filter { $0.dimensions.count >= 3 }.map(\.pathName).joined(separator: ", "),
                                             detail: "no forecast field with a time coordinate (a '<unit> since <date>' variable over the lead times); a forecast needs valid times")
            }
            throw NowcastIOError.noFieldVariable(path: path, available: variables.map(\.pathName))
        }
        throw NowcastIOError.invalidOption(path: path, detail: "several forecast variables (\(candidates.map(\.pathName).joined(separator: ", "))); choose one with --variable")
    }

    // MARK: - Reference time

    private static func reference(variables: [NetCDFVariable], valid: [Date], timeUnits: CFTimeUnits, timeName: String, path: String) throws
        -> (Date, String) {
        if let v = variables.first(where: { $0.name == "forecast_reference_time" || $0.attributes["standard_name"]?.stringValue == "forecast_reference_time" }) {
            let (_, dates) = try CFFieldFile.decode(v, path: path)
            guard let first = dates.first, dates.allSatisfy({ $0 == first }) else {
                throw NowcastIOError.badTime(path: path, variable: v.pathName, detail: "expected one forecast reference time, found \(dates.count) different ones")
            }
            return (first, "variable '\(v.pathName)'")
        }
        if let v = variables.first(where: { $0.name == "forecast_period" || $0.attributes["standard_name"]?.stringValue == "forecast_period" }),
           v.count == valid.count {
            let seconds = try v.readAllDoubles().map { $0 * (v.attributes["units"]?.stringValue.flatMap { CFTimeUnits.unitSeconds[$0.trimmingCharacters(in: .whitespaces).lowercased()] } ?? 1) }
            let references = zip(valid, seconds).map { $0.addingTimeInterval(-$1) }
            if let first = references.first, references.allSatisfy({ abs($0.timeIntervalSince(first)) < 0.5 }) {
                return (first, "'\(timeName)' minus '\(v.pathName)'")
            }
        }
        // pySTEPS: "minutes since <reference time>", valid times k * step after it.
        let offsets = valid.map { $0.timeIntervalSince(timeUnits.reference) }
        if let step = offsets.first, step > 0, step <= 6 * 3600,
           offsets.enumerated().allSatisfy({ abs($0.element - Double($0.offset + 1) * step) < 0.5 }) {
            return (timeUnits.reference, "the epoch of '\(timeName)' units (valid times follow it every \(Int(step.rounded())) s)")
        }
        throw NowcastIOError.badTime(path: path, variable: timeName,
                                     detail: "no forecast reference time: expected a 'forecast_reference_time' variable, a 'forecast_period' beside '\(timeName)', or valid times counted from the reference time as pySTEPS writes them")
    }
}
