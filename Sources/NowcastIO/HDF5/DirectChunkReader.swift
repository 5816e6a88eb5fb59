import CHDF5
import Foundation

/// Reads one unit of a NetCDF-4 variable straight from its HDF5 chunk and decodes it in Swift, for
/// variables stored one unit per chunk (a unit is everything at one index of `frameAxis`: a frame of
/// a `(time, y, x)` field, a sample of a `(sample, time, y, x)` shard) with only the shuffle and
/// deflate filters, as radar archives and training shards are written. Fetching the compressed bytes takes the library lock;
/// inflating and unshuffling do not, so frames decode in parallel. Anything else returns nil at
/// creation and the reader falls back to the netCDF library, which is also the reference in tests.
final class DirectChunkReader {
    let path: String
    let storedType: ScalarType
    let frameValues: Int
    private let file: hid_t
    private let dataset: hid_t
    private let rank: Int
    private let frameAxis: Int?
    private let shuffled: Bool
    private let deflated: Bool

    /// The shuffle and deflate filter ids of HDF5.
    private static let shuffleFilter: Int32 = 2, deflateFilter: Int32 = 1

    /// Nil when the layout does not allow direct reads. `frameAxis` nil means one chunk for the whole variable.
    init?(path: String, datasetPath: String, shape: [Int], frameAxis: Int?, storedType: ScalarType) {
        guard storedType.isExactInFloat32, shape.count >= 2 else { return nil }
        let file = LibraryLock.run { H5Fopen(path, nk_H5F_ACC_RDONLY(), nk_H5P_DEFAULT()) }
        guard file >= 0 else { return nil }
        let dataset = LibraryLock.run { H5Dopen2(file, datasetPath, nk_H5P_DEFAULT()) }
        guard dataset >= 0 else { hdf5Close(file); return nil }
        self.path = path
        self.file = file
        self.dataset = dataset
        self.storedType = storedType
        self.rank = shape.count
        self.frameAxis = frameAxis
        let first = (frameAxis ?? -1) + 1
        frameValues = shape[first...].reduce(1, *)
        let chunk = shape.enumerated().map { $0.offset < first ? 1 : $0.element }
        guard let layout = Self.layout(dataset, chunk: chunk, storedType: storedType) else { return nil }
        (shuffled, deflated) = layout
    }

    deinit {
        hdf5Close(dataset)
        hdf5Close(file)
    }

    /// Checks the chunk shape, a little-endian type of the expected size, and only shuffle/deflate.
    private static func layout(_ dataset: hid_t, chunk expected: [Int], storedType: ScalarType) -> (shuffle: Bool, deflate: Bool)? {
        LibraryLock.run {
            let type = H5Dget_type(dataset)
            defer { hdf5Close(type) }
            guard type >= 0, ScalarType(hdf5Type: type) == storedType,
                  storedType.byteCount == 1 || H5Tget_order(type) == H5T_ORDER_LE else { return nil }
            let plist = H5Dget_create_plist(dataset)
            defer { hdf5Close(plist) }
            guard plist >= 0, H5Pget_layout(plist) == H5D_CHUNKED else { return nil }
            var chunk = [hsize_t](repeating: 0, count: expected.count)
            guard H5Pget_chunk(plist, Int32(expected.count), &chunk) == Int32(expected.count),
                  chunk == expected.map({ hsize_t($0) }) else { return nil }
            var shuffle = false, deflate = false
            for index in 0..<max(0, H5Pget_nfilters(plist)) {
                var flags: UInt32 = 0, count = 8, config: UInt32 = 0
                var values = [UInt32](repeating: 0, count: 8)
                var name = [CChar](repeating: 0, count: 64)
                let filter = H5Pget_filter2(plist, UInt32(index), &flags, &count, &values, name.count, &name, &config)
                // Shuffle must come before deflate in the write pipeline, as netCDF writes it.
                if filter == shuffleFilter, !deflate { shuffle = true } else if filter == deflateFilter { deflate = true } else { return nil }
            }
            return (shuffle, deflate)
        }
    }

    /// The stored bytes of frame `index`, as HDF5 keeps them on disk (compressed), or nil when the
    /// chunk was never written (it holds the fill value; the library path handles that). `leading`
    /// indexes the axes before `frameAxis` (a member of `(realization, time, y, x)`), 0 when empty.
    func compressedFrame(_ index: Int, leading: [Int] = []) throws -> (bytes: [UInt8], filterMask: UInt32)? {
        var offset = [hsize_t](repeating: 0, count: rank)
        for (axis, value) in leading.enumerated() where axis < rank { offset[axis] = hsize_t(value) }
        if let axis = frameAxis { offset[axis] = hsize_t(index) }
        return try LibraryLock.run {
            var size: hsize_t = 0
            guard H5Dget_chunk_storage_size(dataset, offset, &size) >= 0, size > 0 else { return nil }
            // A stored chunk larger than four times its decoded frame is damage, not compression.
            guard size <= hsize_t(4 * frameValues * storedType.byteCount + 4096) else {
                throw NowcastIOError.unreadable(path: path, detail: "the chunk of frame \(index) claims \(size) bytes")
            }
            var bytes = [UInt8](repeating: 0, count: Int(size))
            var mask: UInt32 = 0
            guard H5Dread_chunk(dataset, nk_H5P_DEFAULT(), offset, &mask, &bytes) >= 0 else {
                throw NowcastIOError.unreadable(path: path, detail: "HDF5 failed reading the chunk of frame \(index)")
            }
            return (bytes, mask)
        }
    }

    /// Inflates and unshuffles stored bytes into `raw`, `frameValues * storedType.byteCount` bytes.
    /// Thread-safe: touches no library state.
    func decode(_ stored: (bytes: [UInt8], filterMask: UInt32), into raw: UnsafeMutableRawBufferPointer, scratch: inout [UInt8]) throws {
        let size = frameValues * storedType.byteCount
        // A set bit in the mask means that filter (by pipeline position) was skipped for this chunk.
        let shuffleApplied = shuffled && stored.filterMask & 1 == 0
        let deflateApplied = deflated && stored.filterMask & (shuffled ? 2 : 1) == 0
        if scratch.count < size { scratch = [UInt8](repeating: 0, count: size) }
        let ok = stored.bytes.withUnsafeBytes { compressed -> Bool in
            scratch.withUnsafeMutableBytes { buffer in
                let plain = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<size])
                let target = shuffleApplied ? plain : raw
                if deflateApplied {
                    guard ChunkCodec.inflate(compressed, into: UnsafeMutableRawBufferPointer(rebasing: target[0..<size])) else { return false }
                } else {
                    guard compressed.count == size else { return false }
                    target.copyMemory(from: compressed)
                }
                if shuffleApplied { ChunkCodec.unshuffle(UnsafeRawBufferPointer(plain), into: raw, elementSize: storedType.byteCount) }
                return true
            }
        }
        guard ok else { throw NowcastIOError.unreadable(path: path, detail: "a compressed chunk does not decode to \(size) bytes") }
    }
}
