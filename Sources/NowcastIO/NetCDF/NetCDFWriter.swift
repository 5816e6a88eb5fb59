import CHDF5
import CNetCDF
import Foundation
import NowcastCore

/// Writes a NetCDF file atomically: define dimensions, variables and attributes, write data, then
/// `finish()` renames the temporary file into place. Released without `finish()`, it leaves nothing.
public final class NetCDFWriter {
    /// The on-disk format to write.
    public enum Format: Sendable {
        /// NetCDF-4 (HDF5-based): groups, chunking, deflate, all integer types.
        case netcdf4
        /// NetCDF classic (CDF-1).
        case classic
        /// NetCDF 64-bit offset (CDF-2).
        case offset64
    }

    /// How a variable is stored (NetCDF-4 only; classic files are always contiguous and uncompressed).
    public struct Storage: Sendable {
        /// Chunk sizes per dimension; nil leaves the library's default.
        public var chunks: [Int]?
        /// Deflate level 1-9; nil for none.
        public var deflateLevel: Int?
        /// Byte shuffle before deflate (helps floats and packed integers).
        public var shuffle: Bool

        public init(chunks: [Int]? = nil, deflateLevel: Int? = nil, shuffle: Bool = true) {
            self.chunks = chunks
            self.deflateLevel = deflateLevel
            self.shuffle = shuffle
        }

        /// Contiguous, uncompressed.
        public static let plain = Storage()
    }

    /// The destination path.
    public var path: String { output.destination }
    private let output: AtomicOutput
    private let reserve: SpaceReserve
    private let format: Format
    private var ncid: Int32 = -1
    private var open = false
    private var inDefineMode = true
    private var dimensionIDs: [String: Int32] = [:]
    private var variableIDs: [String: Int32] = [:]

    /// Creates the temporary file for `path`, with a `SpaceReserve` beside it so that closing the
    /// file always has room; throws `FileError` when the folder is missing or has no room for it.
    public init(path: String, format: Format = .netcdf4) throws {
        output = try AtomicOutput(destination: path)
        reserve = try SpaceReserve(beside: path)
        self.format = format
        let mode: Int32
        switch format {
        case .netcdf4: mode = NC_NETCDF4 | NC_CLOBBER
        case .classic: mode = NC_CLOBBER
        case .offset64: mode = NC_64BIT_OFFSET | NC_CLOBBER
        }
        var id: Int32 = 0
        let temporary = output.temporaryPath
        do {
            try netcdfCall(path, "creating \(temporary)", .writing) { nc_create(temporary, mode, &id) }
        } catch {
            // netCDF reports any failed HDF5 create as "permission denied": a plain write tells the cause.
            throw FileError.probingWrite(at: temporary, reportingAs: path) ?? error
        }
        ncid = id
        open = true
        var old: Int32 = 0
        try netcdfCall(path, "setting no-fill mode", .writing) { nc_set_fill(id, NC_NOFILL, &old) }
    }

    deinit { cancel() }

    /// Adds a dimension; `length` nil makes it unlimited.
    public func addDimension(_ name: String, length: Int?) throws {
        var id: Int32 = 0
        try define("defining dimension '\(name)'") { nc_def_dim(ncid, name, length ?? NC_UNLIMITED, &id) }
        dimensionIDs[name] = id
    }

    /// Adds a variable over previously added dimensions, with its attributes.
    public func addVariable(_ name: String, type: ScalarType, dimensions: [String],
                            storage: Storage = .plain, attributes: Attributes = Attributes()) throws {
        let dimids = try dimensions.map { dim -> Int32 in
            guard let id = dimensionIDs[dim] else {
                throw NowcastIOError.invalidOption(path: path, detail: "variable '\(name)' uses undefined dimension '\(dim)'")
            }
            return id
        }
        var id: Int32 = 0
        try define("defining variable '\(name)'") { nc_def_var(ncid, name, type.netcdfType, Int32(dimids.count), dimids, &id) }
        variableIDs[name] = id
        if format == .netcdf4 {
            // A small chunk cache bounds what the close has to flush (see `SpaceReserve`).
            try define("sizing the chunk cache of '\(name)'") { nc_set_var_chunk_cache(ncid, id, SpaceReserve.chunkCacheBytes, 521, 0.75) }
        }
        if storage.chunks != nil || storage.deflateLevel != nil {
            guard format == .netcdf4 else {
                throw NowcastIOError.invalidOption(path: path, detail: "variable '\(name)': chunking and deflate need the NetCDF-4 format")
            }
        }
        if let chunks = storage.chunks {
            guard chunks.count == dimids.count else {
                throw NowcastIOError.invalidOption(path: path, detail: "variable '\(name)': \(chunks.count) chunk sizes for \(dimids.count) dimensions")
            }
            try define("chunking '\(name)'") { nc_def_var_chunking(ncid, id, NC_CHUNKED, chunks) }
        }
        if let level = storage.deflateLevel {
            try define("compressing '\(name)'") { nc_def_var_deflate(ncid, id, storage.shuffle ? 1 : 0, 1, Int32(level)) }
        }
        try put(attributes, varid: id, owner: "variable '\(name)'")
    }

    /// Sets global attributes of the root group.
    public func setGlobalAttributes(_ attributes: Attributes) throws {
        try put(attributes, varid: NC_GLOBAL, owner: "global attributes")
    }

    /// Writes `values` to the hyperslab `start..<start+count` of a variable (all of it when omitted).
    public func write<T: NetCDFElement>(_ variable: String, _ values: [T], start: [Int]? = nil, count: [Int]? = nil) throws {
        guard let varid = variableIDs[variable] else {
            throw NowcastIOError.invalidOption(path: path, detail: "no variable '\(variable)' was defined")
        }
        try endDefinitions()
        var ndims: Int32 = 0
        try netcdfCall(path, "describing '\(variable)'") { nc_inq_varndims(ncid, varid, &ndims) }
        let start = start ?? Array(repeating: 0, count: Int(ndims))
        let count = try count ?? currentShape(varid: varid, ndims: Int(ndims))
        guard count.reduce(1, *) == values.count, start.count == Int(ndims), count.count == Int(ndims) else {
            throw NowcastIOError.invalidOption(
                path: path, detail: "variable '\(variable)': \(values.count) values for slab start \(start) count \(count)")
        }
        try netcdfCall(path, "writing '\(variable)'", .writing) {
            values.withUnsafeBufferPointer { T.put(ncid, varid, start, count, $0.baseAddress!) }
        }
    }

    /// Closes the file and moves it into place. `beforeCommit` runs on the closed temporary file
    /// first (e.g. `ChunkSpool.write(into:variable:)`); if it throws, nothing is committed.
    public func finish(beforeCommit: (_ temporaryPath: String) throws -> Void = { _ in }) throws {
        guard open else { return }
        do {
            try close()
            try beforeCommit(output.temporaryPath)
            try output.commit()
        } catch {
            output.discard()
            throw error
        }
    }

    /// Abandons the file: closes and removes the temporary file. The destination is untouched.
    public func cancel() {
        try? close()
        output.discard()
    }

    /// Closes the file once, with the reserve given back first so that the final flush has room.
    /// netCDF keeps a file whose close failed open; it is then aborted, which releases it.
    private func close() throws {
        guard open else { return }
        open = false
        reserve.release()
        let id = ncid
        let (status, code) = LibraryLock.run { () -> (Int32, Int32) in
            let status = nc_close(id)
            let code = netcdfSystemErrno(status)
            if status != NC_NOERR { _ = nc_abort(id) }
            return (status, code)
        }
        guard status == NC_NOERR else { throw netcdfError(path, "closing", status, .writing, systemErrno: code) }
    }

    private func currentShape(varid: Int32, ndims: Int) throws -> [Int] {
        var dimids = [Int32](repeating: 0, count: ndims)
        try netcdfCall(path, "describing variable") { nc_inq_vardimid(ncid, varid, &dimids) }
        return try dimids.map { dimid in
            var length = 0
            try netcdfCall(path, "describing dimension") { nc_inq_dimlen(ncid, dimid, &length) }
            return length
        }
    }

    private func define(_ what: String, _ call: () -> Int32) throws {
        if !inDefineMode {
            try netcdfCall(path, "re-entering define mode", .writing) { nc_redef(ncid) }
            inDefineMode = true
        }
        try netcdfCall(path, what, .writing, call)
    }

    private func endDefinitions() throws {
        guard inDefineMode else { return }
        try netcdfCall(path, "ending definitions", .writing) { nc_enddef(ncid) }
        inDefineMode = false
    }

    private func put(_ attributes: Attributes, varid: Int32, owner: String) throws {
        for (name, value) in attributes.entries {
            let what = "writing attribute '\(name)' of \(owner)"
            switch value {
            case let .text(text):
                try define(what) { nc_put_att_text(ncid, varid, name, text.utf8.count, text) }
            case let .texts(list):
                guard format == .netcdf4 else {
                    throw NowcastIOError.invalidOption(path: path, detail: "\(owner): string-list attribute '\(name)' needs NetCDF-4")
                }
                let pointers = list.map { strdup($0) }
                defer { pointers.forEach { free($0) } }
                var constPointers = pointers.map { $0.map { UnsafePointer<CChar>($0) } }
                try define(what) { nc_put_att_string(ncid, varid, name, constPointers.count, &constPointers) }
            case let .numbers(type, values):
                try define(what) { nc_put_att_double(ncid, varid, name, type.netcdfType, values.count, values) }
            }
        }
    }
}

/// An element type the NetCDF writer can store directly.
public protocol NetCDFElement {
    /// Calls the matching `nc_put_vara_*` function.
    static func put(_ ncid: Int32, _ varid: Int32, _ start: [Int], _ count: [Int], _ values: UnsafePointer<Self>) -> Int32
}

extension Float: NetCDFElement {
    public static func put(_ ncid: Int32, _ varid: Int32, _ start: [Int], _ count: [Int], _ values: UnsafePointer<Float>) -> Int32 {
        nc_put_vara_float(ncid, varid, start, count, values)
    }
}
extension Double: NetCDFElement {
    public static func put(_ ncid: Int32, _ varid: Int32, _ start: [Int], _ count: [Int], _ values: UnsafePointer<Double>) -> Int32 {
        nc_put_vara_double(ncid, varid, start, count, values)
    }
}
extension Int8: NetCDFElement {
    public static func put(_ ncid: Int32, _ varid: Int32, _ start: [Int], _ count: [Int], _ values: UnsafePointer<Int8>) -> Int32 {
        nc_put_vara_schar(ncid, varid, start, count, values)
    }
}
extension UInt8: NetCDFElement {
    public static func put(_ ncid: Int32, _ varid: Int32, _ start: [Int], _ count: [Int], _ values: UnsafePointer<UInt8>) -> Int32 {
        nc_put_vara_uchar(ncid, varid, start, count, values)
    }
}
extension Int16: NetCDFElement {
    public static func put(_ ncid: Int32, _ varid: Int32, _ start: [Int], _ count: [Int], _ values: UnsafePointer<Int16>) -> Int32 {
        nc_put_vara_short(ncid, varid, start, count, values)
    }
}
extension UInt16: NetCDFElement {
    public static func put(_ ncid: Int32, _ varid: Int32, _ start: [Int], _ count: [Int], _ values: UnsafePointer<UInt16>) -> Int32 {
        nc_put_vara_ushort(ncid, varid, start, count, values)
    }
}
extension Int32: NetCDFElement {
    public static func put(_ ncid: Int32, _ varid: Int32, _ start: [Int], _ count: [Int], _ values: UnsafePointer<Int32>) -> Int32 {
        nc_put_vara_int(ncid, varid, start, count, values)
    }
}
extension Int64: NetCDFElement {
    public static func put(_ ncid: Int32, _ varid: Int32, _ start: [Int], _ count: [Int], _ values: UnsafePointer<Int64>) -> Int32 {
        nc_put_vara_longlong(ncid, varid, start, count, values)
    }
}
