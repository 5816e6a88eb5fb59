import CHDF5

/// Runs one HDF5 call returning an id under the library lock; a negative id becomes an error.
@discardableResult
func hdf5Call(_ path: String, _ what: @autoclosure () -> String, _ call: () -> hid_t) throws -> hid_t {
    let id = LibraryLock.run(call)
    guard id >= 0 else { throw NowcastIOError.unreadable(path: path, detail: "HDF5 failed \(what())") }
    return id
}

/// Runs one HDF5 call returning a status under the library lock; a negative status becomes an error.
func hdf5Status(_ path: String, _ what: @autoclosure () -> String, _ call: () -> herr_t) throws {
    let status = LibraryLock.run(call)
    guard status >= 0 else { throw NowcastIOError.unreadable(path: path, detail: "HDF5 failed \(what())") }
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
