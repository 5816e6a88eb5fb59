import Foundation
import NowcastCore

/// Reads a NetCDF variable one unit at a time, CF-decoded to `Float32` with NaN for missing. A unit is
/// everything at one index of `unitAxis` (a frame of `(time, y, x)`, a sample of `(sample, time, y, x)`),
/// or the whole variable when `unitAxis` is nil. Where the variable is stored one unit per chunk
/// with shuffle/deflate, chunks are decoded by NowcastKit (libdeflate, outside the HDF5 lock, in
/// parallel for ranges); otherwise, and when `directChunkReads` is false, the netCDF library reads them.
public final class VariableUnitReader {
    /// The variable read.
    public let variable: NetCDFVariable
    /// The axis indexing units; nil for a single unit.
    public let unitAxis: Int?
    /// CF decoding of stored values.
    public let packing: CFPacking
    /// Values per unit.
    public let unitValues: Int
    /// Number of units.
    public let unitCount: Int
    /// Decode chunks in Swift where the layout allows; false forces the library path, the reference.
    public var directChunkReads = true
    /// True when units can be read by direct chunk decoding.
    public var supportsDirectChunkReads: Bool { directReader != nil }
    private let directReader: DirectChunkReader?
    private var scratch: [Double] = []

    /// Prepares reads of `variable` (which must be numeric) by units along `unitAxis`.
    public init(variable: NetCDFVariable, unitAxis: Int?, packing: CFPacking, directChunks: Bool = true) {
        self.variable = variable
        self.unitAxis = unitAxis
        self.packing = packing
        let shape = variable.shape
        unitValues = shape[((unitAxis ?? -1) + 1)...].reduce(1, *)
        unitCount = unitAxis.map { shape[$0] } ?? 1
        directReader = directChunks && variable.type != nil
            ? DirectChunkReader(path: variable.path, datasetPath: "/" + variable.pathName, shape: shape, frameAxis: unitAxis,
                                storedType: variable.type ?? .float64)
            : nil
    }

    /// The file read.
    public var path: String { variable.path }

    /// Reads and decodes unit `index` into `buffer` (at least `unitValues` values); returns the
    /// number of non-finite stored values made missing (see `CFPacking.decode`).
    @discardableResult
    public func read(_ index: Int, into buffer: UnsafeMutableBufferPointer<Float>) throws -> Int {
        guard (0..<unitCount).contains(index) else {
            throw NowcastIOError.invalidOption(path: path, detail: "'\(variable.pathName)': index \(index) requested; it has \(unitCount)")
        }
        guard buffer.count >= unitValues else {
            throw NowcastIOError.invalidOption(path: path, detail: "buffer of \(buffer.count) values for \(unitValues)")
        }
        let frame = UnsafeMutableBufferPointer(rebasing: buffer[0..<unitValues])
        if directChunkReads, let reader = directReader, let stored = try reader.compressedFrame(index) {
            var bytes: [UInt8] = []
            return try decodeStoredUnit(stored, reader: reader, packing: packing, into: frame, scratch: &bytes)
        }
        return try readFrameThroughLibrary(index, into: frame)
    }

    /// Reads unit `index` with `nc_get_vara_*` and decodes it: the reference path.
    private func readFrameThroughLibrary(_ index: Int, into frame: UnsafeMutableBufferPointer<Float>) throws -> Int {
        let shape = variable.shape
        let first = (unitAxis ?? -1) + 1
        var start = [Int](repeating: 0, count: shape.count)
        let count = shape.enumerated().map { $0.offset < first ? 1 : $0.element }
        if let axis = unitAxis { start[axis] = index }
        if packing.decodesInFloat {
            try variable.read(into: frame, start: start, count: count)
            return packing.decode(inPlace: frame)
        }
        if scratch.count != frame.count { scratch = [Double](repeating: 0, count: frame.count) }
        return try scratch.withUnsafeMutableBufferPointer { raw in
            try variable.read(into: raw, start: start, count: count)
            return packing.decode(UnsafeBufferPointer(raw), into: frame)
        }
    }

    /// Reads units `range` into `buffer` (`range.count * unitValues` values, one after another),
    /// decoding up to `threads` units at once where direct chunk reads apply; sequential otherwise.
    /// Memory beyond `buffer` is bounded by `threads` compressed and decoded units. Returns the
    /// number of non-finite stored values made missing, over the whole range.
    @discardableResult
    public func read(_ range: Range<Int>, into buffer: UnsafeMutableBufferPointer<Float>,
                     threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws -> Int {
        let size = unitValues
        guard buffer.count >= range.count * size else {
            throw NowcastIOError.invalidOption(path: path, detail: "buffer of \(buffer.count) values for \(range.count) units of \(size)")
        }
        var nonFinite = 0
        guard directChunkReads, let reader = directReader, threads > 1 else {
            for (slot, index) in range.enumerated() {
                nonFinite += try read(index, into: UnsafeMutableBufferPointer(rebasing: buffer[(slot * size)..<((slot + 1) * size)]))
            }
            return nonFinite
        }
        var start = range.lowerBound
        while start < range.upperBound {
            let batch = start..<min(range.upperBound, start + threads)
            // Compressed bytes come through the library lock, one frame after another...
            let stored = try batch.map { index -> (bytes: [UInt8], filterMask: UInt32)? in
                guard (0..<unitCount).contains(index) else {
                    throw NowcastIOError.invalidOption(path: path, detail: "'\(variable.pathName)': index \(index) requested; it has \(unitCount)")
                }
                return try reader.compressedFrame(index)
            }
            // ...and decode on every core at once.
            let failures = ErrorBox()
            var counts = [Int](repeating: 0, count: batch.count)
            counts.withUnsafeMutableBufferPointer { counts in
                DispatchQueue.concurrentPerform(iterations: batch.count) { item in
                    let slot = batch.lowerBound - range.lowerBound + item
                    let frame = UnsafeMutableBufferPointer(rebasing: buffer[(slot * size)..<((slot + 1) * size)])
                    do {
                        if let chunk = stored[item] {
                            var bytes: [UInt8] = []
                            counts[item] = try decodeStoredUnit(chunk, reader: reader, packing: packing, into: frame, scratch: &bytes)
                        }
                    } catch { failures.record(error) }
                }
            }
            if let error = failures.first { throw error }
            nonFinite += counts.reduce(0, +)
            // Frames whose chunk was never written hold the fill value: the library path reads them.
            for (item, chunk) in stored.enumerated() where chunk == nil {
                let slot = batch.lowerBound - range.lowerBound + item
                nonFinite += try readFrameThroughLibrary(batch.lowerBound + item,
                                                         into: UnsafeMutableBufferPointer(rebasing: buffer[(slot * size)..<((slot + 1) * size)]))
            }
            start = batch.upperBound
        }
        return nonFinite
    }
}

/// Decodes one stored chunk into `frame`: inflate and unshuffle, widen to Float, CF decoding.
/// Returns the number of non-finite stored values made missing.
func decodeStoredUnit(_ stored: (bytes: [UInt8], filterMask: UInt32), reader: DirectChunkReader, packing: CFPacking,
                      into frame: UnsafeMutableBufferPointer<Float>, scratch: inout [UInt8]) throws -> Int {
    if reader.storedType == .float32 {
        try reader.decode(stored, into: UnsafeMutableRawBufferPointer(frame), scratch: &scratch)
    } else {
        var raw = [UInt8](repeating: 0, count: frame.count * reader.storedType.byteCount)
        try raw.withUnsafeMutableBytes { try reader.decode(stored, into: $0, scratch: &scratch) }
        raw.withUnsafeBytes { bytes in
            switch reader.storedType {
            case .int8: for (i, v) in bytes.bindMemory(to: Int8.self).enumerated() { frame[i] = Float(v) }
            case .uint8: for (i, v) in bytes.bindMemory(to: UInt8.self).enumerated() { frame[i] = Float(v) }
            case .int16: for (i, v) in bytes.bindMemory(to: Int16.self).enumerated() { frame[i] = Float(v) }
            case .uint16: for (i, v) in bytes.bindMemory(to: UInt16.self).enumerated() { frame[i] = Float(v) }
            default: break  // DirectChunkReader accepts only the types above and float32.
            }
        }
    }
    return packing.decode(inPlace: frame)
}
