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
        // Lengths whose product Int cannot hold (a damaged header) are refused rather than trapped on.
        var shape: [Int] = [], total = 1
        for length in dims {
            guard let n = Int(exactly: length), case let (product, false) = total.multipliedReportingOverflow(by: n) else {
                throw NowcastIOError.unreadable(path: path, detail: "dataset \(dataset) has impossible dimensions \(dims)")
            }
            shape.append(n)
            total = product
        }
        return DatasetInfo(shape: shape, type: LibraryLock.run { ScalarType(hdf5Type: tid) })
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

    /// One attribute's value: numbers, or strings of any kind HDF5 stores (fixed or variable length,
    /// ASCII or UTF-8, NUL- or space-padded, scalar or array); nil for types no convention uses
    /// (compounds, enums, references). A read that fails names the attribute and its type.
    private func readAttribute(_ aid: hid_t, name: String, object: String) throws -> AttributeValue? {
        let tid = try hdf5Call(path, "reading the type of attribute '\(name)' of \(object)") { H5Aget_type(aid) }
        defer { hdf5Close(tid) }
        let sid = try hdf5Call(path, "reading the shape of attribute '\(name)' of \(object)") { H5Aget_space(aid) }
        defer { hdf5Close(sid) }
        let type = LibraryLock.run { HDF5StringType(tid) }
        let count = Int(LibraryLock.run { H5Sget_simple_extent_type(sid) == H5S_NULL ? 0 : max(0, H5Sget_simple_extent_npoints(sid)) })
        func failure(_ detail: String) -> NowcastIOError {
            .unreadableAttribute(path: path, object: object, attribute: name,
                                 type: type?.description(count: count) ?? LibraryLock.run { Self.typeDescription(tid, count: count) }, detail: detail)
        }
        if let scalar = LibraryLock.run({ ScalarType(hdf5Type: tid) }) {
            var values = [Double](repeating: 0, count: count)
            guard count == 0 || LibraryLock.run({ H5Aread(aid, nk_H5T_NATIVE_DOUBLE(), &values) }) >= 0 else { throw failure("HDF5 could not convert it to numbers") }
            return .numbers(scalar, values)
        }
        guard let type else { return nil }
        guard count > 0 else { return .text("") }
        // The memory type matches the file's (character set, padding), so HDF5 converts nothing.
        let memoryType = try hdf5Call(path, "reading attribute '\(name)' of \(object)") { H5Tcopy(nk_H5T_C_S1()) }
        defer { hdf5Close(memoryType) }
        let strings: [String]
        if type.variableLength {
            guard LibraryLock.run({ H5Tset_size(memoryType, nk_H5T_VARIABLE()) >= 0 && H5Tset_cset(memoryType, type.characterSet) >= 0 }) else {
                throw failure("HDF5 could not make a matching memory type")
            }
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            guard LibraryLock.run({ H5Aread(aid, memoryType, &pointers) }) >= 0 else { throw failure("HDF5 could not read the strings") }
            strings = pointers.map { $0.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: strlen($0)), as: UTF8.self) } ?? "" }
            _ = LibraryLock.run { H5Dvlen_reclaim(memoryType, sid, nk_H5P_DEFAULT(), &pointers) }
        } else {
            let size = type.size
            guard size > 0, LibraryLock.run({ H5Tset_size(memoryType, size) >= 0 && H5Tset_cset(memoryType, type.characterSet) >= 0
                && H5Tset_strpad(memoryType, type.padding) >= 0 }) else { throw failure("HDF5 could not make a matching memory type") }
            var bytes = [UInt8](repeating: 0, count: size * count)
            guard LibraryLock.run({ H5Aread(aid, memoryType, &bytes) }) >= 0 else { throw failure("HDF5 could not read the strings") }
            strings = (0..<count).map { type.text(bytes[(($0) * size)..<(($0 + 1) * size)]) }
        }
        return strings.count == 1 ? .text(strings[0]) : .texts(strings)
    }

    /// What an attribute's type is, in words, for messages.
    private static func typeDescription(_ tid: hid_t, count: Int) -> String {
        let kind: String
        switch H5Tget_class(tid) {
        case H5T_INTEGER: kind = "\(H5Tget_size(tid) * 8)-bit integer"
        case H5T_FLOAT: kind = "\(H5Tget_size(tid) * 8)-bit float"
        case H5T_COMPOUND: kind = "compound"
        case H5T_ENUM: kind = "enumeration"
        case H5T_ARRAY: kind = "array type"
        case H5T_VLEN: kind = "variable-length sequence"
        case H5T_REFERENCE: kind = "reference"
        case H5T_OPAQUE: kind = "opaque"
        case H5T_BITFIELD: kind = "bit field"
        default: kind = "unknown type"
        }
        return count == 1 ? kind : "\(count) x \(kind)"
    }
}

/// How an HDF5 string type stores its text: the parts the reader must match to read it unconverted.
struct HDF5StringType {
    var variableLength: Bool
    var size: Int
    var characterSet: H5T_cset_t
    var padding: H5T_str_t

    /// Nil when `tid` is not a string type. Call under the library lock.
    init?(_ tid: hid_t) {
        guard H5Tget_class(tid) == H5T_STRING else { return nil }
        variableLength = H5Tis_variable_str(tid) > 0
        size = H5Tget_size(tid)
        characterSet = H5Tget_cset(tid)
        padding = H5Tget_strpad(tid)
    }

    /// The text of one fixed-length element: up to the first NUL, trailing spaces dropped when
    /// space-padded (Fortran's convention); bytes that are not UTF-8 become U+FFFD.
    func text(_ bytes: ArraySlice<UInt8>) -> String {
        var end = bytes.firstIndex(of: 0) ?? bytes.endIndex
        if padding == H5T_STR_SPACEPAD { while end > bytes.startIndex, bytes[end - 1] == 0x20 { end -= 1 } }
        return String(decoding: bytes[bytes.startIndex..<end], as: UTF8.self).trimmingCharacters(in: .whitespaces)
    }

    /// E.g. "variable-length UTF-8 string", "3 x fixed-length ASCII string of 8 bytes".
    func description(count: Int) -> String {
        let set = characterSet == H5T_CSET_UTF8 ? "UTF-8" : "ASCII"
        let kind = variableLength ? "variable-length \(set) string" : "fixed-length \(set) string of \(size) bytes"
        return count == 1 ? kind : "\(count) x \(kind)"
    }
}
