import CHDF5
import CLinux
import Foundation
import NowcastCore

/// Compresses the units of a NetCDF-4 variable (one unit per chunk: a sample of a training shard)
/// with shuffle and libdeflate as they arrive, keeps them in a side file, and writes them into the
/// variable with `H5Dwrite_chunk` once netCDF has closed the file. The result is an ordinary
/// NetCDF-4 file whose chunks any reader decodes with HDF5's own filters; the work of compressing
/// leaves the HDF5 lock and can run beside the producer. Memory holds one unit, not the shard.
/// Failures name the destination; the side file is removed before the HDF5 file is closed, so a
/// disk that filled up gives the close room (see `SpaceReserve`).
public final class ChunkSpool {
    /// Units appended.
    public private(set) var count = 0
    /// The file the units are for.
    public let destination: String
    private let elementSize: Int
    private let unitBytes: Int
    private let level: Int
    private let sidePath: String
    private var side: OutputFile?
    private var sizes: [Int] = []
    private var shuffled: [UInt8]
    private var compressed: [UInt8]

    /// A spool whose side file lives beside `destination` (removed when the spool is released).
    public init(beside destination: String, unitValues: Int, elementSize: Int, deflateLevel: Int) throws {
        self.destination = destination
        self.elementSize = elementSize
        unitBytes = unitValues * elementSize
        level = deflateLevel
        sidePath = AtomicOutput.temporaryName(beside: destination, kind: "partial-chunks")
        do { side = try OutputFile(sidePath) } catch let error as FileError { throw FileError.write(destination, error.cause) }
        shuffled = [UInt8](repeating: 0, count: unitBytes)
        compressed = [UInt8](repeating: 0, count: ChunkCodec.deflateBound(unitBytes))
    }

    deinit { discard() }

    /// Closes and removes the side file; the spool holds nothing afterwards. Idempotent.
    public func discard() {
        if let side {
            try? side.close()
            self.side = nil
        }
        unlink(sidePath)
    }

    /// Shuffles, compresses and spools one unit of `unitValues` elements (raw little-endian bytes).
    public func append(_ unit: UnsafeRawBufferPointer) throws {
        guard unit.count == unitBytes else {
            throw NowcastIOError.invalidOption(path: destination, detail: "a unit of \(unit.count) bytes; expected \(unitBytes)")
        }
        guard let side else { throw FileError.write(destination, .other("the chunk spool was discarded")) }
        let size = shuffled.withUnsafeMutableBytes { shuffledBytes -> Int? in
            ChunkCodec.shuffle(unit, into: shuffledBytes, elementSize: elementSize)
            return compressed.withUnsafeMutableBytes { ChunkCodec.deflate(UnsafeRawBufferPointer(shuffledBytes), level: level, into: $0) }
        }
        guard let size else { throw FileError.write(destination, .other("compression failed")) }
        do { try compressed.withUnsafeBytes { try side.write(UnsafeRawBufferPointer(rebasing: $0[0..<size])) } } catch let error as FileError {
            throw FileError.write(destination, error.cause)
        }
        sizes.append(size)
        count += 1
    }

    /// Writes the spooled units into `variable` (its first dimension indexes units) of the closed
    /// NetCDF-4 file at `path`, which must declare shuffle and deflate for it and have room for
    /// `count` units along its first, unlimited dimension. The side file's space is given back as
    /// its chunks are copied (a hole punched behind them), so the disk holds little more than the
    /// shard at any time; the side file is gone afterwards, whether the writes succeeded or not.
    public func write(into path: String, variable: String) throws {
        guard let side else { throw FileError.write(destination, .other("the chunk spool was discarded")) }
        do { try side.close() } catch let error as FileError { discard(); throw FileError.write(destination, error.cause) }
        self.side = nil
        defer { discard() }
        let reader = open(sidePath, O_RDWR | O_CLOEXEC)
        guard reader >= 0 else { throw FileError.failed(.read, path: sidePath, cause: FileFailure(errno: errno)) }
        let file: hid_t
        do {
            file = try hdf5Call(destination, "reopening for chunk writes", .writing) { H5Fopen(path, nk_H5F_ACC_RDWR(), nk_H5P_DEFAULT()) }
        } catch {
            close(reader)
            throw error
        }
        var dataset: hid_t = -1
        var failure: Error?
        do {
            dataset = try hdf5Call(destination, "opening \(variable)", .writing) { H5Dopen2(file, "/" + variable, nk_H5P_DEFAULT()) }
            try writeChunks(from: reader, into: dataset, variable: variable)
        } catch {
            failure = error
        }
        // The side file goes first: its space is what the close may need on a full disk.
        close(reader)
        discard()
        hdf5Close(dataset)
        do { try hdf5CloseWrittenFile(file, path: destination, "closing after chunk writes") } catch { failure = failure ?? error }
        if let failure { throw failure }
    }

    private func writeChunks(from reader: Int32, into dataset: hid_t, variable: String) throws {
        let space = try hdf5Call(destination, "reading the shape of \(variable)", .writing) { H5Dget_space(dataset) }
        let rank = Int(LibraryLock.run { H5Sget_simple_extent_ndims(space) })
        var extent = [hsize_t](repeating: 0, count: max(rank, 1))
        _ = LibraryLock.run { H5Sget_simple_extent_dims(space, &extent, nil) }
        hdf5Close(space)
        guard rank >= 1 else { throw FileError.write(destination, .other("\(variable) has no dimensions")) }
        extent[0] = hsize_t(count)
        try hdf5Status(destination, "extending \(variable)", .writing) { H5Dset_extent(dataset, extent) }
        var offset = [hsize_t](repeating: 0, count: rank)
        var bytes = [UInt8](repeating: 0, count: sizes.max() ?? 0)
        var position = 0, punched = 0
        for (index, size) in sizes.enumerated() {
            let read = bytes.withUnsafeMutableBytes { pread(reader, $0.baseAddress, size, off_t(position)) }
            guard read == size else {
                throw read < 0 ? FileError.failed(.read, path: sidePath, cause: FileFailure(errno: errno))
                    : FileError.write(destination, .other("the chunk spool ended early"))
            }
            offset[0] = hsize_t(index)
            try bytes.withUnsafeBytes { raw in
                try hdf5Status(destination, "writing chunk \(index) of \(variable)", .writing) {
                    H5Dwrite_chunk(dataset, nk_H5P_DEFAULT(), 0, offset, size, raw.baseAddress)
                }
            }
            position += size
            // Whole 256 KiB blocks behind the chunks copied so far go back to the file system
            // (where it cannot punch holes, the side file keeps its space until it is removed).
            let done = position & ~((1 << 18) - 1)
            if done > punched {
                _ = nk_punch_hole(reader, off_t(punched), off_t(done - punched))
                punched = done
            }
        }
    }
}
