import CNetCDF

/// A variable of an open NetCDF file: its type, dimensions and attributes, and hyperslab reads.
public struct NetCDFVariable {
    let group: NetCDFGroup
    let varid: Int32
    /// The variable's name.
    public let name: String
    /// The stored numeric type; nil for `char`, `string` and user-defined types.
    public let type: ScalarType?
    /// The netCDF type code, for types `type` cannot describe.
    public let netcdfType: Int32
    /// Dimensions, slowest varying first.
    public let dimensions: [NetCDFDimension]
    /// The variable's attributes in file order.
    public let attributes: Attributes

    init(group: NetCDFGroup, varid: Int32) throws {
        self.group = group
        self.varid = varid
        let path = group.file.path
        var nameBuffer = [CChar](repeating: 0, count: Int(NC_MAX_NAME) + 1)
        var xtype: nc_type = 0
        var ndims: Int32 = 0
        try netcdfCall(path, "describing variable \(varid)") {
            nc_inq_var(group.id, varid, &nameBuffer, &xtype, &ndims, nil, nil)
        }
        var dimids = [Int32](repeating: 0, count: Int(ndims))
        try netcdfCall(path, "describing variable \(varid)") { nc_inq_vardimid(group.id, varid, &dimids) }
        name = String(cString: nameBuffer)
        netcdfType = xtype
        type = ScalarType(netcdfType: xtype)
        dimensions = try dimids.map { try group.dimension(id: $0) }
        let owner = group.fullName == "/" ? name : "\(group.fullName)/\(name)"
        attributes = try netcdfAttributes(path: path, ncid: group.id, varid: varid, owner: "variable '\(owner)'")
    }

    /// The file this variable belongs to.
    public var path: String { group.file.path }
    /// Name with its group path, e.g. `precipitation` or `radar/precipitation`.
    public var pathName: String {
        group.fullName == "/" ? name : "\(group.fullName.dropFirst())/\(name)"
    }
    /// Dimension lengths, slowest varying first.
    public var shape: [Int] { dimensions.map(\.length) }
    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }

    /// Type name as `ncdump` prints it.
    public var typeName: String {
        switch netcdfType {
        case NC_CHAR: return "char"
        case NC_STRING: return "string"
        default:
            switch type {
            case .int8: return "byte"
            case .uint8: return "ubyte"
            case .int16: return "short"
            case .uint16: return "ushort"
            case .int32: return "int"
            case .uint32: return "uint"
            case .int64: return "int64"
            case .uint64: return "uint64"
            case .float32: return "float"
            case .float64: return "double"
            case nil: return "user type \(netcdfType)"
            }
        }
    }

    /// Chunk sizes if the variable is chunked (NetCDF-4), nil when contiguous or classic.
    public func chunkSizes() throws -> [Int]? {
        var storage: Int32 = 0
        var sizes = [Int](repeating: 0, count: max(1, dimensions.count))
        try netcdfCall(path, "reading chunking of '\(name)'") { nc_inq_var_chunking(group.id, varid, &storage, &sizes) }
        return storage == NC_CHUNKED ? Array(sizes.prefix(dimensions.count)) : nil
    }

    /// Deflate level if compressed, nil otherwise.
    public func deflateLevel() throws -> Int? {
        var shuffle: Int32 = 0, deflate: Int32 = 0, level: Int32 = 0
        try netcdfCall(path, "reading compression of '\(name)'") {
            nc_inq_var_deflate(group.id, varid, &shuffle, &deflate, &level)
        }
        return deflate != 0 ? Int(level) : nil
    }

    /// Reads the hyperslab `start..<start+count` converted to `Float` into `buffer`, which must hold
    /// `count.reduce(1, *)` elements. Values out of `Float` range fail with an error.
    public func read(into buffer: UnsafeMutableBufferPointer<Float>, start: [Int], count: [Int]) throws {
        try checkSlab(start: start, count: count, capacity: buffer.count)
        try netcdfCall(path, "reading variable '\(pathName)'") {
            nc_get_vara_float(group.id, varid, start, count, buffer.baseAddress)
        }
    }

    /// Reads the hyperslab `start..<start+count` converted to `Double` into `buffer`.
    public func read(into buffer: UnsafeMutableBufferPointer<Double>, start: [Int], count: [Int]) throws {
        try checkSlab(start: start, count: count, capacity: buffer.count)
        try netcdfCall(path, "reading variable '\(pathName)'") {
            nc_get_vara_double(group.id, varid, start, count, buffer.baseAddress)
        }
    }

    /// The whole variable as `Double` (for coordinates and other small variables).
    public func readAllDoubles() throws -> [Double] {
        guard type != nil else {
            throw NowcastIOError.unexpectedShape(path: path, variable: pathName, expected: "a numeric variable",
                                                 found: "type \(typeName)")
        }
        var values = [Double](repeating: 0, count: count)
        try values.withUnsafeMutableBufferPointer {
            try read(into: $0, start: shape.map { _ in 0 }, count: shape)
        }
        return values
    }

    private func checkSlab(start: [Int], count: [Int], capacity: Int) throws {
        guard type != nil else {
            throw NowcastIOError.unexpectedShape(path: path, variable: pathName, expected: "a numeric variable",
                                                 found: "type \(typeName)")
        }
        let shape = self.shape
        guard start.count == shape.count, count.count == shape.count,
              zip(zip(start, count), shape).allSatisfy({ $0.0 >= 0 && $0.1 >= 0 && $0.0 + $0.1 <= $1 }),
              count.reduce(1, *) <= capacity
        else {
            throw NowcastIOError.invalidOption(
                path: path,
                detail: "variable '\(pathName)' of shape \(shape): slab start \(start) count \(count) does not fit (buffer \(capacity))")
        }
    }
}
