import Foundation

/// A field in a CF NetCDF file (classic or NetCDF-4, in any group): a 2-D `(y, x)` variable with a
/// scalar time, or a 3-D `(time, y, x)` variable giving one frame per time step. Size-1 leading
/// dimensions (a single level, say) are allowed. Values are CF-decoded (`CFPacking`).
public final class CFFieldFile: FieldFile {
    public let path: String
    public let formatName: String
    public var fieldName: String { variable.pathName }
    public let grid: Grid
    public let validTimes: [Date]
    /// Start of each frame's period (from time bounds or a `start_time` variable), when known.
    public let startTimes: [Date?]
    /// The decoding applied to stored values.
    public let packing: CFPacking
    /// Units of the decoded values.
    public let units: String
    /// Standard name, long name or variable name.
    public let quantity: String
    /// The variable read.
    public let variable: NetCDFVariable
    /// Decode frames from their HDF5 chunks in Swift (in parallel in `readFrames`) where the layout
    /// allows; false forces the netCDF library path, the reference.
    public var directChunkReads: Bool {
        get { unitReader.directChunkReads }
        set { unitReader.directChunkReads = newValue }
    }
    /// True when frames of this variable can be read by direct chunk decoding.
    public var supportsDirectChunkReads: Bool { unitReader.supportsDirectChunkReads }
    private let file: NetCDFFile
    private let unitReader: VariableUnitReader

    /// Opens `path` and selects the field variable (`options.variable`, or the only candidate).
    public init(path: String, options: FieldReadOptions = FieldReadOptions()) throws {
        let file = try NetCDFFile(path: path)
        self.file = file
        self.path = path
        formatName = try file.formatName() + " (CF)"
        let variables = try file.allVariables()
        variable = try options.variable.map { try file.variable($0) } ?? Self.selectField(among: variables, path: path)
        let name = variable.pathName
        guard let storedType = variable.type else {
            throw NowcastIOError.unexpectedShape(path: path, variable: name, expected: "a numeric variable", found: "type \(variable.typeName)")
        }
        let dims = variable.dimensions
        guard dims.count >= 2 else {
            throw NowcastIOError.unexpectedShape(path: path, variable: name, expected: "dimensions (y, x) or (time, y, x)",
                                                 found: "dimensions (\(Self.render(dims)))")
        }
        // Leading dimensions: at most one time axis, the others of length 1.
        var timeAxis: Int?
        for (axis, dim) in dims.dropLast(2).enumerated() {
            if Self.isTime(dim, variables: variables) {
                guard timeAxis == nil else {
                    throw NowcastIOError.unexpectedShape(path: path, variable: name, expected: "one time dimension",
                                                         found: "dimensions (\(Self.render(dims)))")
                }
                timeAxis = axis
            } else if dim.length != 1 {
                throw NowcastIOError.unexpectedShape(path: path, variable: name, expected: "dimensions (y, x) or (time, y, x)",
                                                     found: "dimensions (\(Self.render(dims)))")
            }
        }
        packing = try CFPacking(attributes: variable.attributes, storedType: storedType, path: path, variable: name)
        units = variable.attributes["units"]?.stringValue ?? "1"
        quantity = variable.attributes["standard_name"]?.stringValue
            ?? variable.attributes["long_name"]?.stringValue ?? variable.name
        grid = try Self.grid(of: variable, variables: variables, file: file)
        let source: TimeSource
        (validTimes, startTimes, source) = try Self.times(of: variable, timeAxis: timeAxis, variables: variables, options: options, path: path)
        unitReader = VariableUnitReader(variable: variable, unitAxis: timeAxis, packing: packing, directChunks: formatName.hasPrefix("NetCDF-4"))
        layout = unitReader.supportsDirectChunkReads ? Self.layout(variable, timeAxis: timeAxis, source: source, variables: variables,
                                                                   grid: grid, packing: packing, units: units, quantity: quantity, formatName: formatName) : nil
    }

    /// The layout other files of the same archive can be read by through HDF5 alone, when this file
    /// is NetCDF-4 with one frame per chunk and its time in variables (not file names or bounds).
    public let layout: CFLayout?

    private static func layout(_ variable: NetCDFVariable, timeAxis: Int?, source: TimeSource, variables: [NetCDFVariable], grid: Grid,
                               packing: CFPacking, units: String, quantity: String, formatName: String) -> CFLayout? {
        guard let source, let storedType = variable.type, !variable.pathName.contains("/") else { return nil }
        let dims = variable.dimensions
        let x = coordinate(dims[dims.count - 1], in: variables), y = coordinate(dims[dims.count - 2], in: variables)
        return CFLayout(fieldName: variable.pathName, shape: variable.shape, storedType: storedType, timeAxis: timeAxis, packing: packing,
                        timeVariable: source.time.pathName, timeUnits: source.time.attributes["units"]?.stringValue ?? "",
                        calendar: source.time.attributes["calendar"]?.stringValue, startVariable: source.start?.pathName,
                        startUnits: source.start?.attributes["units"]?.stringValue, xVariable: x?.pathName, yVariable: y?.pathName,
                        grid: grid, units: units, quantity: quantity, formatName: formatName)
    }

    public func readFrame(_ index: Int) throws -> Frame {
        var values = [Float](repeating: 0, count: grid.ny * grid.nx)
        try values.withUnsafeMutableBufferPointer { try readFrame(index, into: $0) }
        return Frame(values: values, grid: grid, validTime: validTimes[index], startTime: startTimes[index],
                     endTime: startTimes[index] == nil ? nil : validTimes[index], units: units, quantity: quantity,
                     sourcePath: path, sourceVariable: fieldName)
    }

    /// Reads and decodes frame `index` into `buffer` (`ny * nx` values) without allocating; the
    /// reader for throughput-bound loops.
    public func readFrame(_ index: Int, into buffer: UnsafeMutableBufferPointer<Float>) throws {
        try checkIndex(index)
        try unitReader.read(index, into: buffer)
    }

    /// Reads frames `range` into `buffer` (`range.count * ny * nx` values, frame after frame),
    /// decoding up to `threads` frames at once where direct chunk reads apply; sequential otherwise.
    public func readFrames(_ range: Range<Int>, into buffer: UnsafeMutableBufferPointer<Float>,
                           threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws {
        guard range.isEmpty || (range.lowerBound >= 0 && range.upperBound <= frameCount) else {
            throw NowcastIOError.invalidOption(path: path, detail: "frames \(range) requested; the file has \(frameCount)")
        }
        try unitReader.read(range, into: buffer, threads: threads)
    }

    // MARK: - Choosing the variable

    /// The one variable that looks like a field: numeric, at least 2-D with both trailing dimensions
    /// longer than 1, and not a coordinate, bounds, grid-mapping or latitude/longitude variable.
    static func selectField(among variables: [NetCDFVariable], path: String) throws -> NetCDFVariable {
        let referenced = Set(variables.flatMap { v in
            ["bounds", "grid_mapping", "climatology"].compactMap { v.attributes[$0]?.stringValue }
                .flatMap { $0.split(separator: " ").map { String($0).replacingOccurrences(of: ":", with: "") } }
        })
        func isField(_ v: NetCDFVariable, strict: Bool) -> Bool {
            guard v.type != nil, v.dimensions.count >= 2, !referenced.contains(v.name),
                  !strict || v.dimensions.suffix(2).allSatisfy({ $0.length > 1 }) else { return false }
            let standard = v.attributes["standard_name"]?.stringValue ?? ""
            return !["latitude", "longitude", "projection_x_coordinate", "projection_y_coordinate"].contains(standard)
        }
        // Fields with both trailing dimensions longer than 1 first; single rows or columns otherwise.
        var candidates = variables.filter { isField($0, strict: true) }
        if candidates.isEmpty { candidates = variables.filter { isField($0, strict: false) } }
        if candidates.count == 1 { return candidates[0] }
        let mapped = candidates.filter { $0.attributes["grid_mapping"] != nil }
        if mapped.count == 1 { return mapped[0] }
        if candidates.isEmpty {
            throw NowcastIOError.noFieldVariable(path: path, available: variables.map(\.pathName))
        }
        throw NowcastIOError.invalidOption(
            path: path, detail: "several field variables (\(candidates.map(\.pathName).joined(separator: ", "))); choose one with --variable")
    }

    private static func render(_ dims: [NetCDFDimension]) -> String {
        dims.map { "\($0.name)=\($0.length)" }.joined(separator: ", ")
    }

    private static func coordinate(_ dim: NetCDFDimension, in variables: [NetCDFVariable]) -> NetCDFVariable? {
        variables.first { $0.name == dim.name && $0.dimensions.count == 1 && $0.dimensions[0].name == dim.name }
    }

    private static func isTimeUnits(_ v: NetCDFVariable) -> Bool {
        v.attributes["units"]?.stringValue?.contains(" since ") ?? false
    }

    private static func isTime(_ dim: NetCDFDimension, variables: [NetCDFVariable]) -> Bool {
        if let coordinate = coordinate(dim, in: variables) {
            return isTimeUnits(coordinate) || coordinate.attributes["standard_name"]?.stringValue == "time"
                || coordinate.attributes["axis"]?.stringValue == "T"
        }
        return ["time", "t", "valid_time"].contains(dim.name.lowercased())
    }

    // MARK: - Grid

    private static func grid(of variable: NetCDFVariable, variables: [NetCDFVariable], file: NetCDFFile) throws -> Grid {
        let dims = variable.dimensions
        let yDim = dims[dims.count - 2], xDim = dims[dims.count - 1]
        guard let xVar = coordinate(xDim, in: variables), let yVar = coordinate(yDim, in: variables) else {
            var grid = Grid.indices(ny: yDim.length, nx: xDim.length)
            grid.gridMapping = try mapping(of: variable, file: file)
            return grid
        }
        let xyUnits = xVar.attributes["units"]?.stringValue ?? "1"
        let gridMapping = try mapping(of: variable, file: file)
        let projection = gridMapping.flatMap { CFGridMapping.projString($0.attributes, xyUnits: xyUnits) }
        return Grid(x: try xVar.readAllDoubles(), y: try yVar.readAllDoubles(), xyUnits: xyUnits,
                    projection: projection, gridMapping: gridMapping)
    }

    private static func mapping(of variable: NetCDFVariable, file: NetCDFFile) throws -> GridMapping? {
        // The simple form `grid_mapping = "proj"`; the extended form `"proj: x y"` names it first.
        guard let reference = variable.attributes["grid_mapping"]?.stringValue,
              let name = reference.split(separator: " ").first.map({ String($0).replacingOccurrences(of: ":", with: "") })
        else { return nil }
        guard let mappingVariable = try? file.variable(name) else {
            throw NowcastIOError.badAttribute(path: file.path, object: variable.pathName, attribute: "grid_mapping",
                                              expected: "the name of a variable in the file ('\(name)' is not one)")
        }
        return GridMapping(variableName: name, attributes: mappingVariable.attributes)
    }

    // MARK: - Time

    private static func decode(_ v: NetCDFVariable, path: String) throws -> (CFTimeUnits, [Double]) {
        let unitsText = v.attributes["units"]?.stringValue ?? ""
        do {
            let units = try CFTimeUnits(units: unitsText, calendar: v.attributes["calendar"]?.stringValue)
            let values = try v.readAllDoubles()
            guard values.allSatisfy(\.isFinite) else { throw CFTimeError("time values include missing or non-finite numbers") }
            return (units, values)
        } catch let error as CFTimeError {
            throw NowcastIOError.badTime(path: path, variable: v.pathName, detail: error.description)
        }
    }

    /// The variables times came from; nil when they came from file names or time bounds.
    typealias TimeSource = (time: NetCDFVariable, start: NetCDFVariable?)?

    private static func times(of variable: NetCDFVariable, timeAxis: Int?, variables: [NetCDFVariable],
                              options: FieldReadOptions, path: String) throws -> ([Date], [Date?], TimeSource) {
        if let axis = timeAxis {
            let dim = variable.dimensions[axis]
            guard let timeVariable = coordinate(dim, in: variables) else {
                if dim.length == 1, let pattern = options.timeFromFileName {
                    return (try [fileNameTime(path, pattern, variable: variable.pathName)], [nil], nil)
                }
                throw NowcastIOError.badTime(path: path, variable: variable.pathName,
                                             detail: "time dimension '\(dim.name)' has no coordinate variable")
            }
            let (units, values) = try decode(timeVariable, path: path)
            var starts = [Date?](repeating: nil, count: values.count)
            if let boundsName = timeVariable.attributes["bounds"]?.stringValue,
               let bounds = variables.first(where: { $0.name == boundsName }), bounds.shape == [values.count, 2] {
                let b = try bounds.readAllDoubles()
                starts = (0..<values.count).map { units.date(b[2 * $0]) }
                return (values.map(units.date), starts, nil)
            }
            return (values.map(units.date), starts, (timeVariable, nil))
        }
        // A 2-D field: its time is a scalar variable (named in `coordinates`, or standard_name time).
        let listed = Set((variable.attributes["coordinates"]?.stringValue ?? "").split(separator: " ").map(String.init))
        let scalars = variables.filter { $0.dimensions.isEmpty && isTimeUnits($0) }
        let chosen = scalars.first { listed.contains($0.name) }
            ?? scalars.first { $0.attributes["standard_name"]?.stringValue == "time" }
            ?? scalars.first { ["time", "valid_time"].contains($0.name) }
        guard let timeVariable = chosen else {
            if let pattern = options.timeFromFileName {
                return (try [fileNameTime(path, pattern, variable: variable.pathName)], [nil], nil)
            }
            throw NowcastIOError.badTime(path: path, variable: variable.pathName,
                                         detail: "no time coordinate: expected a time dimension or a scalar time variable with units '<unit> since <date>' (or give a file-name time pattern)")
        }
        let (units, values) = try decode(timeVariable, path: path)
        var start: Date?
        let startVariable = scalars.first(where: { $0.name == "start_time" && $0.name != timeVariable.name })
        if let startVariable {
            let (startUnits, startValues) = try decode(startVariable, path: path)
            start = startValues.first.map(startUnits.date)
        }
        return (values.map(units.date), [start], (timeVariable, startVariable))
    }

    private static func fileNameTime(_ path: String, _ pattern: TimePattern, variable: String) throws -> Date {
        let name = URL(fileURLWithPath: path).lastPathComponent
        guard let date = pattern.firstDate(in: name) else {
            throw NowcastIOError.badTime(path: path, variable: variable, detail: "file name does not match time pattern '\(pattern)'")
        }
        return date
    }
}
