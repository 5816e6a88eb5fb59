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
    public let timeSource: String
    public let globalAttributes: Attributes
    public let warnings: [String]
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
        globalAttributes = try file.root.attributes()
        var warnings: [String] = []
        grid = try Self.grid(of: variable, variables: variables, file: file, globals: globalAttributes, warnings: &warnings)
        let times = try Self.times(of: variable, timeAxis: timeAxis, variables: variables, globals: globalAttributes, file: file,
                                   options: options)
        (validTimes, startTimes, timeSource) = (times.valid, times.starts, times.description)
        warnings += times.warnings
        self.warnings = warnings
        let source = times.layoutSource
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
        return CFLayout(fieldName: variable.pathName, shape: variable.shape, storedType: storedType, typeName: variable.typeName,
                        timeAxis: timeAxis, packing: packing,
                        timeVariable: source.time.pathName, timeUnits: source.time.attributes["units"]?.stringValue ?? "",
                        calendar: source.time.attributes["calendar"]?.stringValue, startVariable: source.start?.pathName,
                        startUnits: source.start?.attributes["units"]?.stringValue, xVariable: x?.pathName, yVariable: y?.pathName,
                        grid: grid, units: units, quantity: quantity, formatName: formatName)
    }

    public func readFrame(_ index: Int) throws -> Frame {
        var values = [Float](repeating: 0, count: grid.ny * grid.nx)
        let nonFinite = try values.withUnsafeMutableBufferPointer { try readFrame(index, into: $0) }
        return Frame(values: values, grid: grid, validTime: validTimes[index], startTime: startTimes[index],
                     endTime: startTimes[index] == nil ? nil : validTimes[index], units: units, quantity: quantity,
                     sourcePath: path, sourceVariable: fieldName, nonFiniteCount: nonFinite)
    }

    /// Reads and decodes frame `index` into `buffer` (`ny * nx` values) without allocating; the
    /// reader for throughput-bound loops. Returns the number of non-finite values made missing.
    @discardableResult
    public func readFrame(_ index: Int, into buffer: UnsafeMutableBufferPointer<Float>) throws -> Int {
        try checkIndex(index)
        return try unitReader.read(index, into: buffer)
    }

    /// Reads frames `range` into `buffer` (`range.count * ny * nx` values, frame after frame),
    /// decoding up to `threads` frames at once where direct chunk reads apply; sequential otherwise.
    /// Returns the number of non-finite values made missing.
    @discardableResult
    public func readFrames(_ range: Range<Int>, into buffer: UnsafeMutableBufferPointer<Float>,
                           threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws -> Int {
        guard range.isEmpty || (range.lowerBound >= 0 && range.upperBound <= frameCount) else {
            throw NowcastIOError.invalidOption(path: path, detail: "frames \(range) requested; the file has \(frameCount)")
        }
        return try unitReader.read(range, into: buffer, threads: threads)
    }

    /// The CF decoding in words, e.g. `stored short; scale 0.01, offset 0; missing -1 -> NaN`.
    public var decoding: String { packing.summary(typeName: variable.typeName) }

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

    static func render(_ dims: [NetCDFDimension]) -> String {
        dims.map { "\($0.name)=\($0.length)" }.joined(separator: ", ")
    }

    static func coordinate(_ dim: NetCDFDimension, in variables: [NetCDFVariable]) -> NetCDFVariable? {
        variables.first { $0.name == dim.name && $0.dimensions.count == 1 && $0.dimensions[0].name == dim.name }
    }

    private static func isTimeUnits(_ v: NetCDFVariable) -> Bool {
        v.attributes["units"]?.stringValue?.contains(" since ") ?? false
    }

    static func isTime(_ dim: NetCDFDimension, variables: [NetCDFVariable]) -> Bool {
        if let coordinate = coordinate(dim, in: variables) {
            return isTimeUnits(coordinate) || coordinate.attributes["standard_name"]?.stringValue == "time"
                || coordinate.attributes["axis"]?.stringValue == "T"
        }
        return ["time", "t", "valid_time"].contains(dim.name.lowercased())
    }

    // MARK: - Grid

    /// Global attributes that carry a PROJ definition in files without a CF grid mapping (NWC SAF
    /// and other satellite products, exporters of several services), in the order they are tried.
    static let projectionAttributes = ["gdal_projection", "proj4_string", "proj4", "proj4text", "proj4_params", "proj_params", "projection"]

    static func grid(of variable: NetCDFVariable, variables: [NetCDFVariable], file: NetCDFFile, globals: Attributes,
                             warnings: inout [String]) throws -> Grid {
        let dims = variable.dimensions
        let yDim = dims[dims.count - 2], xDim = dims[dims.count - 1]
        let gridMapping = try mapping(of: variable, file: file)
        var grid: Grid
        if let xVar = coordinate(xDim, in: variables), let yVar = coordinate(yDim, in: variables) {
            let xyUnits = xVar.attributes["units"]?.stringValue ?? "1"
            grid = Grid(x: try xVar.readAllDoubles(), y: try yVar.readAllDoubles(), xyUnits: xyUnits, gridMapping: gridMapping)
            if let mapping = gridMapping, let projection = CFGridMapping.projString(mapping.attributes, xyUnits: xyUnits) {
                grid.projection = projection
                grid.projectionSource = "grid mapping '\(mapping.variableName)'"
            }
        } else {
            grid = Grid.indices(ny: yDim.length, nx: xDim.length)
            grid.gridMapping = gridMapping
        }
        if grid.projection == nil {
            for name in projectionAttributes {
                guard let text = globals[name]?.stringValue?.trimmingCharacters(in: .whitespaces), text.contains("+proj=") else { continue }
                do {
                    _ = try Projection(text)
                    grid.projection = text
                    grid.projectionSource = "global attribute '\(name)'"
                } catch {
                    warnings.append("the global attribute '\(name)' is not a projection PROJ understands (\(error)); the grid has no projection")
                }
                break
            }
        }
        return grid
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

    static func decode(_ v: NetCDFVariable, path: String) throws -> (CFTimeUnits, [Date]) {
        guard let unitsText = v.attributes["units"]?.stringValue else {
            throw NowcastIOError.badTime(path: path, variable: v.pathName, detail: "no 'units' attribute; expected '<unit> since <date>'")
        }
        do {
            let units = try CFTimeUnits(units: unitsText, calendar: v.attributes["calendar"]?.stringValue)
            let values = try v.readAllDoubles()
            guard values.allSatisfy(\.isFinite) else { throw CFTimeError("time values include missing or non-finite numbers") }
            let dates = values.map(units.date)
            if let bad = dates.firstIndex(where: { !UTCTime.isRepresentable($0) }) {
                throw CFTimeError("time value \(values[bad]) in '\(unitsText)' is outside the years 1 to 9999")
            }
            return (units, dates)
        } catch let error as CFTimeError {
            throw NowcastIOError.badTime(path: path, variable: v.pathName, detail: error.description)
        }
    }

    /// The variables times came from; nil when they came from attributes, file names or time bounds.
    typealias TimeSource = (time: NetCDFVariable, start: NetCDFVariable?)?

    /// The times of a field's frames and where they came from.
    struct FrameTimes {
        var valid: [Date]
        var starts: [Date?]
        var layoutSource: TimeSource
        var description: String
        var warnings: [String] = []
    }

    /// Valid times, tried in order: an attribute the caller names (`--time-attribute`), the time
    /// coordinate or scalar time variable, the CF/ACDD global attributes (`time_coverage_end`,
    /// `nominal_product_time`, `time_coverage_start`, `date_created` as the last resort), the file name.
    private static func times(of variable: NetCDFVariable, timeAxis: Int?, variables: [NetCDFVariable], globals: Attributes,
                              file: NetCDFFile, options: FieldReadOptions) throws -> FrameTimes {
        let path = file.path
        let frames = timeAxis.map { variable.dimensions[$0].length } ?? 1
        if let reference = options.timeAttribute {
            guard frames == 1 else {
                throw NowcastIOError.badTime(path: path, variable: variable.pathName,
                                             detail: "--time-attribute \(reference) gives one time; the field has \(frames) frames")
            }
            let owner = reference.isRoot ? "global attributes" : "variable '\(reference.object)'"
            let attributes = reference.isRoot ? globals : try file.variable(reference.object).attributes
            guard let value = attributes[reference.name] else {
                throw NowcastIOError.badAttribute(path: path, object: owner, attribute: reference.name, expected: "a valid-time attribute")
            }
            return FrameTimes(valid: [try attributeTime(value, name: reference.description, format: options.timeFormat, path: path)],
                              starts: [nil], layoutSource: nil, description: "attribute \(reference)")
        }
        if let axis = timeAxis, let timeVariable = coordinate(variable.dimensions[axis], in: variables) {
            let (units, valid) = try decode(timeVariable, path: path)
            if let boundsName = timeVariable.attributes["bounds"]?.stringValue,
               let bounds = variables.first(where: { $0.name == boundsName }), bounds.shape == [valid.count, 2] {
                let b = try bounds.readAllDoubles()
                return FrameTimes(valid: valid, starts: (0..<valid.count).map { units.date(b[2 * $0]) }, layoutSource: nil,
                                  description: "variable '\(timeVariable.pathName)' with bounds '\(boundsName)'")
            }
            return FrameTimes(valid: valid, starts: Array(repeating: nil, count: valid.count), layoutSource: (timeVariable, nil),
                              description: "variable '\(timeVariable.pathName)'")
        }
        if timeAxis == nil {
            // A 2-D field: its time is a scalar variable (named in `coordinates`, or standard_name time).
            let listed = Set((variable.attributes["coordinates"]?.stringValue ?? "").split(separator: " ").map(String.init))
            let scalars = variables.filter { $0.dimensions.isEmpty && isTimeUnits($0) }
            let chosen = scalars.first { listed.contains($0.name) }
                ?? scalars.first { $0.attributes["standard_name"]?.stringValue == "time" }
                ?? scalars.first { ["time", "valid_time"].contains($0.name) }
            if let timeVariable = chosen {
                let valid = try decode(timeVariable, path: path).1
                let startVariable = scalars.first(where: { $0.name == "start_time" && $0.name != timeVariable.name })
                let start = try startVariable.map { try decode($0, path: path).1.first } ?? nil
                return FrameTimes(valid: valid, starts: [start], layoutSource: (timeVariable, startVariable),
                                  description: "variable '\(timeVariable.pathName)'")
            }
        } else if frames != 1 {
            throw NowcastIOError.badTime(path: path, variable: variable.pathName,
                                         detail: "time dimension '\(variable.dimensions[timeAxis ?? 0].name)' has no coordinate variable")
        }
        if let times = try globalTime(globals, path: path) { return times }
        if let pattern = options.timeFromFileName {
            return FrameTimes(valid: [try fileNameTime(path, pattern, variable: variable.pathName)], starts: [nil], layoutSource: nil,
                              description: "file name (\(pattern))")
        }
        throw NowcastIOError.badTime(path: path, variable: variable.pathName, detail: "no time coordinate: expected a time dimension or a scalar "
            + "time variable with units '<unit> since <date>', a global attribute \(AttributeTime.globalNames.joined(separator: ", ")), "
            + "or give --time-attribute OBJECT@NAME or --time-from-filename")
    }

    /// The time of a whole file from its CF/ACDD global attributes: the end of its coverage (with
    /// the start), its nominal time, the start alone, or (said so) when the file was created.
    private static func globalTime(_ globals: Attributes, path: String) throws -> FrameTimes? {
        guard let name = AttributeTime.globalNames.first(where: { globals[$0] != nil }), let value = globals[name] else { return nil }
        let valid = try attributeTime(value, name: "global attribute '\(name)'", format: nil, path: path)
        var start: Date?
        if name != "time_coverage_start", let text = globals["time_coverage_start"] {
            start = try attributeTime(text, name: "global attribute 'time_coverage_start'", format: nil, path: path)
            if start.map({ $0 >= valid }) ?? false { start = nil }
        }
        var times = FrameTimes(valid: [valid], starts: [start], layoutSource: nil, description: "global attribute '\(name)'")
        if name == "date_created" {
            times.warnings.append("no time coordinate, time_coverage_* or nominal_product_time attribute: the valid time is the "
                + "global attribute 'date_created', when the file was made")
        }
        return times
    }

    private static func attributeTime(_ value: AttributeValue, name: String, format: TimePattern?, path: String) throws -> Date {
        guard let date = AttributeTime.date(value, format: format), UTCTime.isRepresentable(date) else {
            throw NowcastIOError.badTime(path: path, variable: name, detail: "\(value.rendered) is not \(AttributeTime.expectedForm(format))")
        }
        return date
    }

    private static func fileNameTime(_ path: String, _ pattern: TimePattern, variable: String) throws -> Date {
        let name = URL(fileURLWithPath: path).lastPathComponent
        guard let date = pattern.firstDate(in: name) else {
            throw NowcastIOError.badTime(path: path, variable: variable, detail: "file name does not match time pattern '\(pattern)'")
        }
        return date
    }
}
