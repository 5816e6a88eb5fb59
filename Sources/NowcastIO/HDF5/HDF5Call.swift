import CHDF5
import NowcastCore

/// Whether a library call reads a file (a failure means the file is damaged or unreadable) or
/// writes one (a failure is a `FileError`: no space, permissions, I/O).
enum LibraryAccess { case reading, writing }

/// The error for a failed library call on `path`: `systemErrno` (0 when none) names the cause.
func libraryFailure(_ path: String, _ what: String, _ access: LibraryAccess, library: String, systemErrno: Int32) -> Error {
    let cause = systemErrno != 0 ? FileFailure(errno: systemErrno) : nil
    switch access {
    case .reading:
        return NowcastIOError.unreadable(path: path, detail: "\(library) failed \(what)" + (cause.map { ": \($0)" } ?? ""))
    case .writing:
        return FileError.write(path, cause ?? .other("\(library) failed \(what)"))
    }
}

/// Runs one HDF5 call returning an id under the library lock; a negative id becomes an error.
@discardableResult
func hdf5Call(_ path: String, _ what: @autoclosure () -> String, _ access: LibraryAccess = .reading, _ call: () -> hid_t) throws -> hid_t {
    let (id, code) = LibraryLock.run(on: path) { () -> (hid_t, Int32) in
        let id = call()
        return (id, id < 0 ? LibraryLock.systemErrno : 0)
    }
    guard id >= 0 else { throw libraryFailure(path, what(), access, library: "HDF5", systemErrno: code) }
    return id
}

/// Runs one HDF5 call returning a status under the library lock; a negative status becomes an error.
func hdf5Status(_ path: String, _ what: @autoclosure () -> String, _ access: LibraryAccess = .reading, _ call: () -> herr_t) throws {
    let (status, code) = LibraryLock.run(on: path) { () -> (herr_t, Int32) in
        let status = call()
        return (status, status < 0 ? LibraryLock.systemErrno : 0)
    }
    guard status >= 0 else { throw libraryFailure(path, what(), access, library: "HDF5", systemErrno: code) }
}

/// Closes a file being written, reporting a failure (the final flush) as a `FileError` on `path`.
func hdf5CloseWrittenFile(_ id: hid_t, path: String, _ what: String) throws {
    let (status, code) = LibraryLock.run(on: path) { () -> (herr_t, Int32) in
        let status = H5Fclose(id)
        return (status, status < 0 ? LibraryLock.systemErrno : 0)
    }
    guard status >= 0 else { throw libraryFailure(path, what, .writing, library: "HDF5", systemErrno: code) }
}

/// Closes an HDF5 id of any kind (file, group, dataset, attribute, type, space, property list).
func hdf5Close(_ id: hid_t) {
    guard id >= 0 else { return }
    LibraryLock.run {
        switch H5Iget_type(id) {
        case H5I_FILE: _ = H5Fclose(id)
        case H5I_GROUP: _ = H5Gclose(id)
        case H5I_DATASET: _ = H5Dclose(id)
        case H5I_ATTR: _ = H5Aclose(id)
        case H5I_DATATYPE: _ = H5Tclose(id)
        case H5I_DATASPACE: _ = H5Sclose(id)
        case H5I_GENPROP_LST: _ = H5Pclose(id)
        default: break
        }
    }
}

extension ScalarType {
    /// The native HDF5 memory type for this scalar type.
    var hdf5NativeType: hid_t {
        switch self {
        case .int8: return nk_H5T_NATIVE_INT8()
        case .uint8: return nk_H5T_NATIVE_UINT8()
        case .int16: return nk_H5T_NATIVE_INT16()
        case .uint16: return nk_H5T_NATIVE_UINT16()
        case .int32: return nk_H5T_NATIVE_INT32()
        case .uint32: return nk_H5T_NATIVE_UINT32()
        case .int64: return nk_H5T_NATIVE_INT64()
        case .uint64: return nk_H5T_NATIVE_UINT64()
        case .float32: return nk_H5T_NATIVE_FLOAT()
        case .float64: return nk_H5T_NATIVE_DOUBLE()
        }
    }

    /// The scalar type of an HDF5 integer or float datatype; nil for strings, compounds and others.
    init?(hdf5Type tid: hid_t) {
        let size = H5Tget_size(tid)
        switch H5Tget_class(tid) {
        case H5T_FLOAT:
            switch size {
            case 4: self = .float32
            case 8: self = .float64
            default: return nil
            }
        case H5T_INTEGER:
            let signed = H5Tget_sign(tid) == H5T_SGN_2
            switch size {
            case 1: self = signed ? .int8 : .uint8
            case 2: self = signed ? .int16 : .uint16
            case 4: self = signed ? .int32 : .uint32
            case 8: self = signed ? .int64 : .uint64
            default: return nil
            }
        default:
            return nil
        }
    }
}
