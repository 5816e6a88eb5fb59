import CHDF5
import CNetCDF
import NowcastCore

/// Runs one netCDF-C call under the library lock and turns a non-zero status into an error that
/// names the file and what was being done.
@discardableResult
func netcdfCall(_ path: String, _ what: @autoclosure () -> String, _ access: LibraryAccess = .reading, _ call: () -> Int32) throws -> Int32 {
    let (status, code) = LibraryLock.run(on: path) { () -> (Int32, Int32) in
        let status = call()
        return (status, netcdfSystemErrno(status))
    }
    guard status == NC_NOERR else { throw netcdfError(path, what(), status, access, systemErrno: code) }
    return status
}

/// The system errno behind a failed netCDF call: the one HDF5 recorded for NetCDF-4 files (netCDF
/// reports a failed HDF5 create as EACCES whatever the cause), else the status itself when positive
/// (netCDF returns errno values of classic files as they are); 0 when there is none. Call it under
/// the library lock, right after the failed call.
func netcdfSystemErrno(_ status: Int32) -> Int32 {
    guard status != NC_NOERR else { return 0 }
    let recorded = LibraryLock.systemErrno
    return recorded != 0 ? recorded : max(0, status)
}

/// Maps a netCDF status to the toolkit's error, telling "not NetCDF" apart from "damaged", and
/// write failures (a `FileError`) from read failures.
func netcdfError(_ path: String, _ what: String, _ status: Int32, _ access: LibraryAccess = .reading, systemErrno: Int32 = 0) -> Error {
    let message = String(cString: nc_strerror(status))
    if access == .reading, status == NC_ENOTNC { return NowcastIOError.unrecognisedFormat(path: path, detail: message) }
    if systemErrno != 0 || access == .writing {
        return libraryFailure(path, "\(what) (\(message))", access, library: "netCDF", systemErrno: systemErrno)
    }
    return NowcastIOError.unreadable(path: path, detail: "\(what): \(message)")
}

extension ScalarType {
    /// The netCDF type code, e.g. `NC_SHORT` for `.int16`.
    var netcdfType: nc_type {
        switch self {
        case .int8: return NC_BYTE
        case .uint8: return NC_UBYTE
        case .int16: return NC_SHORT
        case .uint16: return NC_USHORT
        case .int32: return NC_INT
        case .uint32: return NC_UINT
        case .int64: return NC_INT64
        case .uint64: return NC_UINT64
        case .float32: return NC_FLOAT
        case .float64: return NC_DOUBLE
        }
    }

    /// The scalar type of a netCDF type code; nil for `char`, `string` and user-defined types.
    init?(netcdfType: nc_type) {
        switch netcdfType {
        case NC_BYTE: self = .int8
        case NC_UBYTE: self = .uint8
        case NC_SHORT: self = .int16
        case NC_USHORT: self = .uint16
        case NC_INT: self = .int32
        case NC_UINT: self = .uint32
        case NC_INT64: self = .int64
        case NC_UINT64: self = .uint64
        case NC_FLOAT: self = .float32
        case NC_DOUBLE: self = .float64
        default: return nil
        }
    }
}

/// Reads all attributes of a variable (or the group's globals when `varid` is `NC_GLOBAL`).
func netcdfAttributes(path: String, ncid: Int32, varid: Int32, owner: String) throws -> Attributes {
    var count: Int32 = 0
    if varid == NC_GLOBAL {
        try netcdfCall(path, "counting attributes of \(owner)") { nc_inq_natts(ncid, &count) }
    } else {
        try netcdfCall(path, "counting attributes of \(owner)") { nc_inq_varnatts(ncid, varid, &count) }
    }
    var result = Attributes()
    for index in 0..<count {
        var nameBuffer = [CChar](repeating: 0, count: Int(NC_MAX_NAME) + 1)
        try netcdfCall(path, "attribute \(index) of \(owner)") { nc_inq_attname(ncid, varid, index, &nameBuffer) }
        let name = String(cString: nameBuffer)
        var type: nc_type = 0
        var length = 0
        try netcdfCall(path, "attribute '\(name)' of \(owner)") { nc_inq_att(ncid, varid, name, &type, &length) }
        let what = "reading attribute '\(name)' of \(owner)"
        if type == NC_CHAR {
            var bytes = [CChar](repeating: 0, count: length + 1)
            try netcdfCall(path, what) { nc_get_att_text(ncid, varid, name, &bytes) }
            result.entries.append((name, .text(trimmedString(bytes))))
        } else if type == NC_STRING {
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: length)
            try netcdfCall(path, what) { nc_get_att_string(ncid, varid, name, &pointers) }
            let strings = pointers.map { $0.map { String(cString: $0) } ?? "" }
            LibraryLock.run { _ = nc_free_string(length, &pointers) }
            result.entries.append((name, strings.count == 1 ? .text(strings[0]) : .texts(strings)))
        } else if let scalar = ScalarType(netcdfType: type) {
            var values = [Double](repeating: 0, count: length)
            try netcdfCall(path, what) { nc_get_att_double(ncid, varid, name, &values) }
            result.entries.append((name, .numbers(scalar, values)))
        }
        // Attributes of user-defined types are skipped: no CF or ODIM convention uses them.
    }
    return result
}

/// Text from a NUL- or space-padded C buffer (Fortran writers pad with spaces), without the
/// padding; bytes that are not UTF-8 become U+FFFD.
func trimmedString(_ bytes: [CChar]) -> String {
    var end = bytes.firstIndex(of: 0) ?? bytes.count
    while end > 0, bytes[end - 1] == 0x20 { end -= 1 }
    return String(decoding: bytes[..<end].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
