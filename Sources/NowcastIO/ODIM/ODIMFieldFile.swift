import Foundation

/// A field in an ODIM_H5 file (OPERA and national composites, `IMAGE`/`COMP` objects). Attributes in
/// `what`/`where`/`how` are inherited: those of `/datasetN/dataM` override `/datasetN`, which override
/// the root, so OPERA's gain/offset/nodata/undetect in `/dataset1/what` apply to `data1`.
/// One frame per dataset holding the selected quantity; quality fields (`QIND`) are readable too.
public final class ODIMFieldFile: FieldFile {
    /// One data array of the file and its effective (inherited) metadata.
    public struct Field: Sendable {
        /// The group holding the `data` dataset, e.g. `/dataset1/data1` or `/dataset1/data1/quality1`.
        public var group: String
        /// The effective ODIM quantity (`RATE`, `DBZH`, `QIND`, ...).
        public var quantity: String
        /// Effective `what` attributes.
        public var what: Attributes
        /// Effective `where` attributes.
        public var `where`: Attributes
        /// Effective `how` attributes.
        public var how: Attributes
        /// The calibration from `gain`, `offset`, `nodata` and `undetect`.
        public var calibration: Calibration
    }

    public let path: String
    public let formatName: String
    public var fieldName: String { quantity }
    public let grid: Grid
    public let validTimes: [Date]
    /// The quantity read.
    public let quantity: String
    /// Every data array of the file, in order.
    public let fields: [Field]
    /// The fields of the selected quantity, one per frame.
    public let selected: [Field]
    /// Units of the decoded values, from the quantity (`mm h-1` for RATE).
    public let units: String
    public let timeSource: String
    public let globalAttributes: Attributes
    public let warnings: [String]
    public var decoding: String { selected[0].calibration.summary }
    private let starts: [Date?]
    private let ends: [Date?]
    private let file: HDF5File

    /// The quantity of data arrays whose what groups name none.
    public static let unknownQuantity = "UNKNOWN"

    /// Quantities read when none is asked for, in order of preference.
    public static let preferredQuantities = ["RATE", "ACRR", "DBZH", "TH"]

    /// Opens an ODIM_H5 file and selects `options.quantity` (or the preferred one present).
    public convenience init(path: String, options: FieldReadOptions = FieldReadOptions()) throws {
        try self.init(file: HDF5File(path: path), options: options)
    }

    init(file: HDF5File, options: FieldReadOptions) throws {
        self.file = file
        let path = file.path
        self.path = path
        let root = try file.attributes(of: "/")
        globalAttributes = root
        formatName = root["Conventions"]?.stringValue ?? "ODIM_H5"
        fields = try Self.listFields(file, undetectValue: options.undetectValue)
        guard !fields.isEmpty else {
            throw NowcastIOError.variableNotFound(path: path, variable: "/dataset1/data1/data", available: (try? file.allDatasets()) ?? [])
        }
        let quantities = fields.map(\.quantity)
        let wanted = options.quantity?.uppercased()
            ?? Self.preferredQuantities.first(where: quantities.contains) ?? quantities[0]
        selected = fields.filter { $0.quantity.uppercased() == wanted }
        guard let first = selected.first else {
            var seen: [String] = []
            for q in quantities where !seen.contains(q) { seen.append(q) }
            throw NowcastIOError.variableNotFound(path: path, variable: "quantity \(wanted)", available: seen)
        }
        quantity = first.quantity
        units = Self.units(of: quantity)
        warnings = first.quantity == Self.unknownQuantity
            ? ["no 'quantity' in the what groups of \(first.group): read as an unknown quantity in units '1' (name one with --quantity)"] : []
        let info = try file.datasetInfo(first.group + "/data")
        guard info.shape.count == 2, info.type != nil else {
            throw NowcastIOError.unexpectedShape(path: path, variable: first.group + "/data", expected: "a 2-D numeric dataset",
                                                 found: "shape \(info.shape)")
        }
        grid = try Self.grid(first.where, ny: info.shape[0], nx: info.shape[1], path: path, group: first.group)
        // The nominal time of the file; with several frames of the quantity, each dataset's end time.
        let nominal = try Self.date(first.what, "date", "time", path: path, group: "/what")
        let startTimes = try selected.map { try Self.optionalDate($0.what, "startdate", "starttime", path: path, group: $0.group) }
        let endTimes = try selected.map { try Self.optionalDate($0.what, "enddate", "endtime", path: path, group: $0.group) }
        starts = startTimes
        ends = endTimes
        validTimes = selected.count == 1 ? [nominal] : endTimes.map { $0 ?? nominal }
        timeSource = selected.count == 1 ? "what/date and what/time" : "enddate and endtime of each dataset"
    }

    public func readFrame(_ index: Int) throws -> Frame {
        try checkIndex(index)
        let field = selected[index]
        let dataset = field.group + "/data"
        let info = try file.datasetInfo(dataset)
        guard info.shape == [grid.ny, grid.nx], let type = info.type else {
            throw NowcastIOError.unexpectedShape(path: path, variable: dataset, expected: "shape [\(grid.ny), \(grid.nx)]",
                                                 found: "shape \(info.shape)")
        }
        var values = [Float](repeating: 0, count: grid.ny * grid.nx)
        let nonFinite = try values.withUnsafeMutableBufferPointer { output -> Int in
            if type.isExactInFloat32 {
                return try file.readFloats(dataset).withUnsafeBufferPointer { field.calibration.apply($0, into: output) }
            }
            return try file.readDoubles(dataset).withUnsafeBufferPointer { field.calibration.apply($0, into: output) }
        }
        return Frame(values: values, grid: grid, validTime: validTimes[index], startTime: starts[index], endTime: ends[index],
                     units: units, quantity: quantity, sourcePath: path, sourceVariable: dataset, nonFiniteCount: nonFinite)
    }

    // MARK: - Structure

    private static func numbered(_ names: [String], _ prefix: String) -> [String] {
        names.filter { $0.hasPrefix(prefix) && Int($0.dropFirst(prefix.count)) != nil }
            .sorted { (Int($0.dropFirst(prefix.count)) ?? 0) < (Int($1.dropFirst(prefix.count)) ?? 0) }
    }

    private static func listFields(_ file: HDF5File, undetectValue: Float?) throws -> [Field] {
        func group(_ path: String, _ name: String) throws -> Attributes {
            file.exists("\(path)/\(name)") ? try file.attributes(of: "\(path)/\(name)") : Attributes()
        }
        func overlay(_ base: Attributes, _ top: Attributes) -> Attributes {
            var merged = base
            for (name, value) in top.entries { merged[name] = value }
            return merged
        }
        func field(_ chain: [String]) throws -> Field? {
            guard let last = chain.last, file.exists(last + "/data") else { return nil }
            var what = Attributes(), where_ = Attributes(), how = Attributes()
            for level in chain {
                what = overlay(what, try group(level, "what"))
                where_ = overlay(where_, try group(level, "where"))
                how = overlay(how, try group(level, "how"))
            }
            let quantity = what["quantity"]?.stringValue ?? unknownQuantity
            let calibration = Calibration(gain: what["gain"]?.doubleValue ?? 1, offset: what["offset"]?.doubleValue ?? 0,
                                          nodata: what["nodata"]?.doubleValue, undetect: what["undetect"]?.doubleValue,
                                          undetectValue: undetectValue ?? defaultUndetectValue(quantity))
            return Field(group: last, quantity: quantity, what: what, where: where_, how: how, calibration: calibration)
        }
        var result: [Field] = []
        for dataset in numbered(try file.children(of: "/"), "dataset") {
            let datasetPath = "/" + dataset
            let members = try file.children(of: datasetPath)
            for data in numbered(members, "data") {
                let dataPath = datasetPath + "/" + data
                if let f = try field(["", datasetPath, dataPath]) { result.append(f) }
                for quality in numbered(try file.children(of: dataPath), "quality") {
                    if let f = try field(["", datasetPath, dataPath, dataPath + "/" + quality]) { result.append(f) }
                }
            }
            for quality in numbered(members, "quality") {
                if let f = try field(["", datasetPath, datasetPath + "/" + quality]) { result.append(f) }
            }
        }
        return result
    }

    /// The physical value of "nothing detected": 0 for rates and accumulations, -32 dBZ for
    /// reflectivities; nil (the calibrated stored value) for anything else.
    public static func defaultUndetectValue(_ quantity: String) -> Float? {
        switch quantity.uppercased() {
        case "RATE", "ACRR", "RAINRATE", "QIND": return 0
        case "DBZH", "DBZV", "TH", "TV", "DBZ": return -32
        default: return nil
        }
    }

    /// CF-style units of an ODIM quantity.
    public static func units(of quantity: String) -> String {
        switch quantity.uppercased() {
        case "RATE": return "mm h-1"
        case "ACRR": return "mm"
        case "DBZH", "DBZV", "TH", "TV": return "dBZ"
        case "HGHT": return "km"
        default: return "1"
        }
    }

    // MARK: - Grid and time

    private static func grid(_ where_: Attributes, ny: Int, nx: Int, path: String, group: String) throws -> Grid {
        if let xsize = where_["xsize"]?.doubleValue, let ysize = where_["ysize"]?.doubleValue, xsize != Double(nx) || ysize != Double(ny) {
            throw NowcastIOError.unexpectedShape(path: path, variable: group + "/data",
                                                 expected: "\(formatNumber(ysize)) x \(formatNumber(xsize)) as where/ysize, xsize say",
                                                 found: "\(ny) x \(nx)")
        }
        guard let projdef = where_["projdef"]?.stringValue, let xscale = where_["xscale"]?.doubleValue,
              let yscale = where_["yscale"]?.doubleValue else {
            return Grid.indices(ny: ny, nx: nx)
        }
        let corner: (x: Double, y: Double)
        if let ulx = where_["UL_x"]?.doubleValue, let uly = where_["UL_y"]?.doubleValue {
            corner = (ulx, uly)
        } else {
            let projection: Projection
            do { projection = try Projection(projdef) } catch {
                throw NowcastIOError.badAttribute(path: path, object: "where", attribute: "projdef", expected: "a PROJ definition (\(error))")
            }
            do {
                if let lon = where_["UL_lon"]?.doubleValue, let lat = where_["UL_lat"]?.doubleValue {
                    corner = try projection.forward(longitude: lon, latitude: lat)
                } else if let lon = where_["LL_lon"]?.doubleValue, let lat = where_["LL_lat"]?.doubleValue {
                    let ll = try projection.forward(longitude: lon, latitude: lat)
                    corner = (ll.x, ll.y + Double(ny) * yscale)
                } else {
                    return Grid.indices(ny: ny, nx: nx)
                }
            } catch {
                throw NowcastIOError.badAttribute(path: path, object: "where", attribute: "UL_lon/UL_lat", expected: "a corner PROJ can project (\(error))")
            }
        }
        let x = (0..<nx).map { corner.x + (Double($0) + 0.5) * xscale }
        let y = (0..<ny).map { corner.y - (Double($0) + 0.5) * yscale }
        return Grid(x: x, y: y, xyUnits: "m", projection: projdef.trimmingCharacters(in: .whitespaces), projectionSource: "where/projdef")
    }

    private static func optionalDate(_ what: Attributes, _ dateKey: String, _ timeKey: String, path: String, group: String) throws -> Date? {
        guard what[dateKey] != nil, what[timeKey] != nil else { return nil }
        return try date(what, dateKey, timeKey, path: path, group: group)
    }

    private static func date(_ what: Attributes, _ dateKey: String, _ timeKey: String, path: String, group: String) throws -> Date {
        guard let day = what[dateKey]?.stringValue, let time = what[timeKey]?.stringValue else {
            throw NowcastIOError.badAttribute(path: path, object: group, attribute: "\(dateKey)/\(timeKey)",
                                              expected: "ODIM date YYYYMMDD and time HHMMSS")
        }
        let digits = day + time
        guard digits.count == 14, digits.allSatisfy(\.isNumber), let pattern = try? TimePattern("%Y%m%d%H%M%S"),
              let date = pattern.firstDate(in: digits) else {
            throw NowcastIOError.badTime(path: path, variable: "\(group) \(dateKey)/\(timeKey)",
                                         detail: "'\(day)' '\(time)' is not an ODIM date YYYYMMDD and time HHMMSS")
        }
        return date
    }
}
