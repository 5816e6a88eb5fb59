import CHDF5
import Foundation

/// An open HDF5 file, read-only: groups, datasets and their attributes. Closed when released.
public final class HDF5File {
    /// The kind of an object in the file.
    public enum ObjectKind: String, Sendable, Codable { case group, dataset, other }

    /// Shape and element type of a dataset.
    public struct DatasetInfo: Equatable, Sendable, Codable {
        /// Dimension lengths, slowest varying first.
        public var shape: [Int]
        /// Element type; nil for strings, compounds and other non-numeric types.
        public var type: ScalarType?
    }

    /// The path the file was opened from.
    public let path: String
    let id: hid_t

    /// Opens `path` for reading; throws `.fileNotFound`, `.unrecognisedFormat` or `.unreadable`.
    public init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw NowcastIOError.fileNotFound(path: path) }
        let isHDF5 = LibraryLock.run { H5Fis_hdf5(path) }
        guard isHDF5 > 0 else {
            throw NowcastIOError.unrecognisedFormat(path: path, detail: "no HDF5 signature")
        }
        self.path = path
        id = try hdf5Call(path, "opening the file") { H5Fopen(path, nk_H5F_ACC_RDONLY(), nk_H5P_DEFAULT()) }
    }

    deinit { hdf5Close(id) }

    /// True if an object (group or dataset) exists at `object`, e.g. `/dataset1/what`.
    public func exists(_ object: String) -> Bool {
        var prefix = ""
        for part in object.split(separator: "/") {
            prefix += "/\(part)"
            let found = LibraryLock.run { H5Lexists(id, prefix, nk_H5P_DEFAULT()) }
            guard found > 0 else { return false }
        }
        return true
    }

    /// Whether `object` is a group or a dataset.
    public func kind(of object: String) throws -> ObjectKind {
        let oid = try open(object)
        defer { hdf5Close(oid) }
        switch LibraryLock.run({ H5Iget_type(oid) }) {
        case H5I_GROUP: return .group
        case H5I_DATASET: return .dataset
        default: return .other
        }
    }

    /// Names of the members of a group, sorted by name.
    public func children(of group: String) throws -> [String] {
        let gid = try hdf5Call(path, "opening group \(group)") { H5Gopen2(id, group, nk_H5P_DEFAULT()) }
        defer { hdf5Close(gid) }
        var info = H5G_info_t()
        try hdf5Status(path, "listing group \(group)") { H5Gget_info(gid, &info) }
        return try (0..<info.nlinks).map { index in
            let size = LibraryLock.run {
                H5Lget_name_by_idx(gid, ".", H5_INDEX_NAME, H5_ITER_INC, index, nil, 0, nk_H5P_DEFAULT())
            }
            guard size >= 0 else { throw NowcastIOError.unreadable(path: path, detail: "HDF5 failed listing group \(group)") }
            var buffer = [CChar](repeating: 0, count: Int(size) + 1)
            _ = LibraryLock.run {
                H5Lget_name_by_idx(gid, ".", H5_INDEX_NAME, H5_ITER_INC, index, &buffer, buffer.count, nk_H5P_DEFAULT())
            }
            return String(cString: buffer)
        }
    }

    /// Every dataset path in the file, depth first in name order.
    public func allDatasets() throws -> [String] {
        var result: [String] = []
        func visit(_ group: String) throws {
            for name in try children(of: group) {
                let child = group == "/" ? "/\(name)" : "\(group)/\(name)"
                switch try kind(of: child) {
                case .group: try visit(child)
                case .dataset: result.append(child)
                case .other: break
                }
            }
        }
        try visit("/")
        return result
    }

    /// The attributes of a group or dataset.
    public func attributes(of object: String) throws -> Attributes {
        let oid = try open(object)
        defer { hdf5Close(oid) }
        let count = LibraryLock.run { H5Aget_num_attrs(oid) }
        guard count >= 0 else { throw NowcastIOError.unreadable(path: path, detail: "HDF5 failed counting attributes of \(object)") }
        var result = Attributes()
        for index in 0..<hsize_t(count) {
            let aid = try hdf5Call(path, "opening attribute \(index) of \(object)") {
                H5Aopen_by_idx(oid, ".", H5_INDEX_NAME, H5_ITER_INC, index, nk_H5P_DEFAULT(), nk_H5P_DEFAULT())
            }
            defer { hdf5Close(aid) }
            let nameLength = LibraryLock.run { H5Aget_name(aid, 0, nil) }
            var nameBuffer = [CChar](repeating: 0, count: max(0, nameLength) + 1)
            _ = LibraryLock.run { H5Aget_name(aid, nameBuffer.count, &nameBuffer) }
            let name = String(cString: nameBuffer)
            if let value = try readAttribute(aid, name: name, object: object) {
                result.entries.append((name, value))
            }
        }
        return result
    }

    /// Shape and element type of a dataset.
    public func datasetInfo(_ dataset: String) throws -> DatasetInfo {
        let did = try openDataset(dataset)
        defer { hdf5Close(did) }
        return try info(did, dataset)
    }

    /// Reads a whole numeric dataset converted to `Float` (exact for 8/16-bit integers and float32).
    public func readFloats(_ dataset: String) throws -> [Float] {
        try read(dataset, memoryType: nk_H5T_NATIVE_FLOAT(), zero: Float(0))
    }

    /// Reads a whole numeric dataset converted to `Double`.
    public func readDoubles(_ dataset: String) throws -> [Double] {
        try read(dataset, memoryType: nk_H5T_NATIVE_DOUBLE(), zero: Double(0))
    }

    private func read<T>(_ dataset: String, memoryType: hid_t, zero: T) throws -> [T] {
        let did = try openDataset(dataset)
        defer { hdf5Close(did) }
        let shape = try info(did, dataset)
        guard shape.type != nil else {
            throw NowcastIOError.unexpectedShape(path: path, variable: dataset, expected: "a numeric dataset", found: "a non-numeric type")
        }
        var values = [T](repeating: zero, count: shape.shape.reduce(1, *))
        try values.withUnsafeMutableBytes { bytes in
            try hdf5Status(path, "reading dataset \(dataset)") {
                H5Dread(did, memoryType, nk_H5S_ALL(), nk_H5S_ALL(), nk_H5P_DEFAULT(), bytes.baseAddress)
            }
        }
        return values
    }

    private func info(_ did: hid_t, _ dataset: String) throws -> DatasetInfo {
        let sid = try hdf5Call(path, "reading the shape of \(dataset)") { H5Dget_space(did) }
        defer { hdf5Close(sid) }
        let rank = LibraryLock.run { H5Sget_simple_extent_ndims(sid) }
        guard rank >= 0 else { throw NowcastIOError.unreadable(path: path, detail: "HDF5 failed reading the rank of \(dataset)") }
        var dims = [hsize_t](repeating: 0, count: Int(rank))
        _ = LibraryLock.run { H5Sget_simple_extent_dims(sid, &dims, nil) }
        let tid = try hdf5Call(path, "reading the type of \(dataset)") { H5Dget_type(did) }
        defer { hdf5Close(tid) }
        return DatasetInfo(shape: dims.map { Int($0) }, type: LibraryLock.run { ScalarType(hdf5Type: tid) })
    }

    private func open(_ object: String) throws -> hid_t {
        guard exists(object) || object == "/" else {
            throw NowcastIOError.variableNotFound(path: path, variable: object, available: (try? allDatasets()) ?? [])
        }
        return try hdf5Call(path, "opening \(object)") { H5Oopen(id, object, nk_H5P_DEFAULT()) }
    }

    private func openDataset(_ dataset: String) throws -> hid_t {
        guard exists(dataset), try kind(of: dataset) == .dataset else {
            throw NowcastIOError.variableNotFound(path: path, variable: dataset, available: (try? allDatasets()) ?? [])
        }
        return try hdf5Call(path, "opening dataset \(dataset)") { H5Dopen2(id, dataset, nk_H5P_DEFAULT()) }
    }

    /// One attribute's value: numbers, or strings of fixed or variable length; nil for other types.
    private func readAttribute(_ aid: hid_t, name: String, object: String) throws -> AttributeValue? {
        let what = "reading attribute '\(name)' of \(object)"
        let tid = try hdf5Call(path, what) { H5Aget_type(aid) }
        defer { hdf5Close(tid) }
        let sid = try hdf5Call(path, what) { H5Aget_space(aid) }
        defer { hdf5Close(sid) }
        let count = Int(LibraryLock.run { H5Sget_simple_extent_npoints(sid) })
        guard count > 0 else { return nil }
        if let scalar = LibraryLock.run({ ScalarType(hdf5Type: tid) }) {
            var values = [Double](repeating: 0, count: count)
            try hdf5Status(path, what) { H5Aread(aid, nk_H5T_NATIVE_DOUBLE(), &values) }
            return .numbers(scalar, values)
        }
        guard LibraryLock.run({ H5Tget_class(tid) }) == H5T_STRING else { return nil }
        let memoryType = try hdf5Call(path, what) { H5Tcopy(nk_H5T_C_S1()) }
        defer { hdf5Close(memoryType) }
        var strings: [String]
        if LibraryLock.run({ H5Tis_variable_str(tid) }) > 0 {
            try hdf5Status(path, what) { H5Tset_size(memoryType, nk_H5T_VARIABLE()) }
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            try hdf5Status(path, what) { H5Aread(aid, memoryType, &pointers) }
            strings = pointers.map { $0.map { String(cString: $0) } ?? "" }
            _ = LibraryLock.run { H5Dvlen_reclaim(memoryType, sid, nk_H5P_DEFAULT(), &pointers) }
        } else {
            let size = LibraryLock.run { H5Tget_size(tid) }
            try hdf5Status(path, what) { H5Tset_size(memoryType, size) }
            var bytes = [CChar](repeating: 0, count: size * count + 1)
            try hdf5Status(path, what) { H5Aread(aid, memoryType, &bytes) }
            strings = (0..<count).map { i in
                trimmedString(Array(bytes[(i * size)..<((i + 1) * size)]))
                    .trimmingCharacters(in: .whitespaces)
            }
        }
        return strings.count == 1 ? .text(strings[0]) : .texts(strings)
    }
}
