import CHDF5
import Foundation
import NowcastCore

/// Writes an HDF5 file atomically: groups, attributes and numeric datasets (chunked, deflated), then
/// `finish()` renames the temporary file into place. Released without `finish()`, it leaves nothing.
public final class HDF5Writer {
    /// How string attributes are stored: fixed length (ODIM tools, netCDF) or variable length (h5py).
    public enum StringStorage: Sendable { case fixedLength, variableLength }

    /// The destination path.
    public var path: String { output.destination }
    /// How `.text` attributes are written.
    public var stringStorage: StringStorage
    private let output: AtomicOutput
    private let reserve: SpaceReserve
    private var fileID: hid_t = -1

    /// Creates the temporary file for `path`, with a `SpaceReserve` beside it so that closing the
    /// file always has room (HDF5's chunk cache, 1 MiB per dataset, bounds what the close flushes).
    public init(path: String, stringStorage: StringStorage = .fixedLength) throws {
        output = try AtomicOutput(destination: path)
        reserve = try SpaceReserve(beside: path)
        self.stringStorage = stringStorage
        let temporary = output.temporaryPath
        fileID = try hdf5Call(path, "creating \(temporary)", .writing) {
            H5Fcreate(temporary, nk_H5F_ACC_TRUNC(), nk_H5P_DEFAULT(), nk_H5P_DEFAULT())
        }
    }

    deinit { cancel() }

    /// Creates a group (its parent must exist), e.g. `/dataset1/what`.
    public func createGroup(_ group: String) throws {
        let gid = try hdf5Call(path, "creating group \(group)", .writing) {
            H5Gcreate2(fileID, group, nk_H5P_DEFAULT(), nk_H5P_DEFAULT(), nk_H5P_DEFAULT())
        }
        hdf5Close(gid)
    }

    /// Writes a numeric dataset of `shape` from `values`, stored as `type` (converted by HDF5).
    public func writeDataset<T: HDF5Element>(_ dataset: String, values: [T], shape: [Int], storedAs type: ScalarType,
                                             chunks: [Int]? = nil, deflateLevel: Int? = nil) throws {
        guard shape.reduce(1, *) == values.count else {
            throw NowcastIOError.invalidOption(path: path, detail: "dataset \(dataset): \(values.count) values for shape \(shape)")
        }
        let dims = shape.map { hsize_t($0) }
        let sid = try hdf5Call(path, "creating the space of \(dataset)", .writing) { H5Screate_simple(Int32(dims.count), dims, nil) }
        defer { hdf5Close(sid) }
        let dcpl = try hdf5Call(path, "creating properties of \(dataset)", .writing) { H5Pcreate(nk_H5P_DATASET_CREATE()) }
        defer { hdf5Close(dcpl) }
        if let chunks {
            let chunkDims = chunks.map { hsize_t($0) }
            try hdf5Status(path, "chunking \(dataset)", .writing) { H5Pset_chunk(dcpl, Int32(chunkDims.count), chunkDims) }
            if let level = deflateLevel {
                try hdf5Status(path, "compressing \(dataset)", .writing) { H5Pset_deflate(dcpl, UInt32(level)) }
            }
        }
        // A small chunk cache bounds what the close has to flush (see `SpaceReserve`).
        let dapl = try hdf5Call(path, "creating access properties of \(dataset)", .writing) { H5Pcreate(nk_H5P_DATASET_ACCESS()) }
        defer { hdf5Close(dapl) }
        try hdf5Status(path, "sizing the chunk cache of \(dataset)", .writing) {
            H5Pset_chunk_cache(dapl, 521, SpaceReserve.chunkCacheBytes, 0.75)
        }
        let did = try hdf5Call(path, "creating dataset \(dataset)", .writing) {
            H5Dcreate2(fileID, dataset, type.hdf5NativeType, sid, nk_H5P_DEFAULT(), dcpl, dapl)
        }
        do {
            try values.withUnsafeBytes { bytes in
                try hdf5Status(path, "writing dataset \(dataset)", .writing) {
                    H5Dwrite(did, T.hdf5Type.hdf5NativeType, nk_H5S_ALL(), nk_H5S_ALL(), nk_H5P_DEFAULT(), bytes.baseAddress)
                }
            }
        } catch {
            hdf5Close(did)
            throw error
        }
        // Closing the dataset flushes its cached chunks: a full disk shows here.
        try hdf5Status(path, "closing dataset \(dataset)", .writing) { H5Dclose(did) }
    }

    /// Sets attributes on an existing group or dataset.
    public func setAttributes(_ attributes: Attributes, on object: String) throws {
        let oid = try hdf5Call(path, "opening \(object)", .writing) { H5Oopen(fileID, object, nk_H5P_DEFAULT()) }
        defer { hdf5Close(oid) }
        for (name, value) in attributes.entries {
            try writeAttribute(name, value, on: oid, object: object)
        }
    }

    /// Closes the file and moves it into place.
    public func finish() throws {
        guard fileID >= 0 else { return }
        do {
            try close()
            try output.commit()
        } catch {
            output.discard()
            throw error
        }
    }

    /// Abandons the file; the destination is untouched.
    public func cancel() {
        try? close()
        output.discard()
    }

    /// Closes the file once, with the reserve given back first so that the final flush has room.
    private func close() throws {
        guard fileID >= 0 else { return }
        let id = fileID
        fileID = -1
        reserve.release()
        try hdf5CloseWrittenFile(id, path: path, "closing the file")
    }

    private func writeAttribute(_ name: String, _ value: AttributeValue, on oid: hid_t, object: String) throws {
        let what = "writing attribute '\(name)' of \(object)"
        switch value {
        case let .numbers(type, values):
            let sid = try space(count: values.count, what)
            defer { hdf5Close(sid) }
            let aid = try hdf5Call(path, what, .writing) { H5Acreate2(oid, name, type.hdf5NativeType, sid, nk_H5P_DEFAULT(), nk_H5P_DEFAULT()) }
            defer { hdf5Close(aid) }
            try hdf5Status(path, what, .writing) { H5Awrite(aid, nk_H5T_NATIVE_DOUBLE(), values) }
        case let .text(text):
            try writeStrings(name, [text], scalar: true, on: oid, what)
        case let .texts(list):
            try writeStrings(name, list, scalar: false, on: oid, what)
        }
    }

    private func writeStrings(_ name: String, _ strings: [String], scalar: Bool, on oid: hid_t, _ what: String) throws {
        let sid = try scalar ? hdf5Call(path, what, .writing) { H5Screate(H5S_SCALAR) } : space(count: strings.count, what)
        defer { hdf5Close(sid) }
        let tid = try hdf5Call(path, what, .writing) { H5Tcopy(nk_H5T_C_S1()) }
        defer { hdf5Close(tid) }
        switch stringStorage {
        case .variableLength:
            try hdf5Status(path, what, .writing) { H5Tset_size(tid, nk_H5T_VARIABLE()) }
            let aid = try hdf5Call(path, what, .writing) { H5Acreate2(oid, name, tid, sid, nk_H5P_DEFAULT(), nk_H5P_DEFAULT()) }
            defer { hdf5Close(aid) }
            let pointers = strings.map { strdup($0) }
            defer { pointers.forEach { free($0) } }
            try hdf5Status(path, what, .writing) { H5Awrite(aid, tid, pointers) }
        case .fixedLength:
            let size = (strings.map(\.utf8.count).max() ?? 0) + 1
            try hdf5Status(path, what, .writing) { H5Tset_size(tid, size) }
            try hdf5Status(path, what, .writing) { H5Tset_strpad(tid, H5T_STR_NULLTERM) }
            let aid = try hdf5Call(path, what, .writing) { H5Acreate2(oid, name, tid, sid, nk_H5P_DEFAULT(), nk_H5P_DEFAULT()) }
            defer { hdf5Close(aid) }
            var bytes = [CChar](repeating: 0, count: size * strings.count)
            for (i, string) in strings.enumerated() {
                for (j, byte) in string.utf8.enumerated() { bytes[i * size + j] = CChar(bitPattern: byte) }
            }
            try hdf5Status(path, what, .writing) { H5Awrite(aid, tid, bytes) }
        }
    }

    private func space(count: Int, _ what: String) throws -> hid_t {
        var dims = [hsize_t(count)]
        return try hdf5Call(path, what, .writing) { H5Screate_simple(1, &dims, nil) }
    }
}

/// An element type the HDF5 writer can take values in.
public protocol HDF5Element {
    /// The matching scalar type.
    static var hdf5Type: ScalarType { get }
}

extension Float: HDF5Element { public static var hdf5Type: ScalarType { .float32 } }
extension Double: HDF5Element { public static var hdf5Type: ScalarType { .float64 } }
extension UInt8: HDF5Element { public static var hdf5Type: ScalarType { .uint8 } }
extension UInt16: HDF5Element { public static var hdf5Type: ScalarType { .uint16 } }
extension Int16: HDF5Element { public static var hdf5Type: ScalarType { .int16 } }
