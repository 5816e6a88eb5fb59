import CHDF5
import Foundation

/// Compresses the units of a NetCDF-4 variable (one unit per chunk: a sample of a training shard)
/// with shuffle and libdeflate as they arrive, keeps them in a side file, and writes them into the
/// variable with `H5Dwrite_chunk` once netCDF has closed the file. The result is an ordinary
/// NetCDF-4 file whose chunks any reader decodes with HDF5's own filters; the work of compressing
/// leaves the HDF5 lock and can run beside the producer. Memory holds one unit, not the shard.
public final class ChunkSpool {
    /// Units appended.
    public private(set) var count = 0
    private let elementSize: Int
    private let unitBytes: Int
    private let level: Int
    private let sidePath: String
    private let side: FileHandle
    private var sizes: [Int] = []
    private var shuffled: [UInt8]
    private var compressed: [UInt8]

    /// A spool whose side file lives beside `destination` (removed when the spool is released).
    public init(beside destination: String, unitValues: Int, elementSize: Int, deflateLevel: Int) throws {
        self.elementSize = elementSize
        unitBytes = unitValues * elementSize
        level = deflateLevel
        let url = URL(fileURLWithPath: destination)
        sidePath = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).partial-chunks-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        guard FileManager.default.createFile(atPath: sidePath, contents: nil), let handle = FileHandle(forWritingAtPath: sidePath) else {
            throw NowcastIOError.writeFailed(path: destination, detail: "cannot create \(sidePath)")
        }
        side = handle
        shuffled = [UInt8](repeating: 0, count: unitBytes)
        compressed = [UInt8](repeating: 0, count: ChunkCodec.deflateBound(unitBytes))
    }

    deinit { removeSideFile() }

    private func removeSideFile() {
        try? side.close()
        unlink(sidePath)
    }

    /// Shuffles, compresses and spools one unit of `unitValues` elements (raw little-endian bytes).
    public func append(_ unit: UnsafeRawBufferPointer) throws {
        guard unit.count == unitBytes else {
            throw NowcastIOError.invalidOption(path: sidePath, detail: "a unit of \(unit.count) bytes; expected \(unitBytes)")
        }
        let size = shuffled.withUnsafeMutableBytes { shuffledBytes -> Int? in
            ChunkCodec.shuffle(unit, into: shuffledBytes, elementSize: elementSize)
            return compressed.withUnsafeMutableBytes { ChunkCodec.deflate(UnsafeRawBufferPointer(shuffledBytes), level: level, into: $0) }
        }
        guard let size else { throw NowcastIOError.writeFailed(path: sidePath, detail: "compression failed") }
        do { try side.write(contentsOf: compressed.prefix(size)) } catch {
            throw NowcastIOError.writeFailed(path: sidePath, detail: "\(error.localizedDescription)")
        }
        sizes.append(size)
        count += 1
    }

    /// Writes the spooled units into `variable` (its first dimension indexes units) of the closed
    /// NetCDF-4 file at `path`, which must declare shuffle and deflate for it and have room for
    /// `count` units along its first, unlimited dimension.
    public func write(into path: String, variable: String) throws {
        try side.synchronize()
        guard let reader = FileHandle(forReadingAtPath: sidePath) else {
            throw NowcastIOError.writeFailed(path: path, detail: "cannot reopen \(sidePath)")
        }
        defer { try? reader.close() }
        let file = try hdf5Call(path, "reopening for chunk writes") { H5Fopen(path, nk_H5F_ACC_RDWR(), nk_H5P_DEFAULT()) }
        defer { hdf5Close(file) }
        let dataset = try hdf5Call(path, "opening \(variable)") { H5Dopen2(file, "/" + variable, nk_H5P_DEFAULT()) }
        defer { hdf5Close(dataset) }
        let space = try hdf5Call(path, "reading the shape of \(variable)") { H5Dget_space(dataset) }
        let rank = Int(LibraryLock.run { H5Sget_simple_extent_ndims(space) })
        var extent = [hsize_t](repeating: 0, count: max(rank, 1))
        _ = LibraryLock.run { H5Sget_simple_extent_dims(space, &extent, nil) }
        hdf5Close(space)
        guard rank >= 1 else { throw NowcastIOError.writeFailed(path: path, detail: "\(variable) has no dimensions") }
        extent[0] = hsize_t(count)
        try hdf5Status(path, "extending \(variable)") { H5Dset_extent(dataset, extent) }
        var offset = [hsize_t](repeating: 0, count: rank)
        for (index, size) in sizes.enumerated() {
            guard let bytes = try reader.read(upToCount: size), bytes.count == size else {
                throw NowcastIOError.writeFailed(path: path, detail: "the chunk spool ended early")
            }
            offset[0] = hsize_t(index)
            try bytes.withUnsafeBytes { raw in
                try hdf5Status(path, "writing chunk \(index) of \(variable)") { H5Dwrite_chunk(dataset, nk_H5P_DEFAULT(), 0, offset, size, raw.baseAddress) }
            }
        }
        removeSideFile()
    }
}
