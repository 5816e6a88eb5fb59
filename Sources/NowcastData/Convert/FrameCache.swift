import Foundation
import NowcastCore
import NowcastIO

/// One frame as a conversion uses it: coarsened physical values (for the filters) and transformed
/// values (for the store), checked so that a valid source value never becomes NaN or infinite.
struct PreparedFrame {
    var physical: [Float]
    var transformed: [Float]
    /// Stored values the reader found non-finite and made missing.
    var nonFinite: Int

    /// Reads, coarsens and transforms frame `index` of `series` by the first `steps` of `chain` (all
    /// when nil); thread-safe. A value the transforms make non-finite from a valid one is an error
    /// naming the file, the time and the cell.
    init(series: FrameSeries, index: Int, coarsen: Int, chain: TransformChain, steps: Int? = nil) throws {
        let frame = try series.readFrameConcurrently(index)
        physical = Coarsening.blockMean(frame.values, ny: series.grid.ny, nx: series.grid.nx, factor: coarsen)
        nonFinite = frame.nonFiniteCount
        var values = physical
        values.withUnsafeMutableBufferPointer { chain.forward($0, steps: steps ?? chain.steps.count) }
        if let bad = TransformChain.firstInvalid(source: physical, transformed: values) {
            let columns = series.grid.nx / coarsen
            let cell = "row \(bad / columns), column \(bad % columns)\(coarsen > 1 ? " of the grid coarsened \(coarsen) times" : "")"
            throw NowcastDataError.nonFiniteValue(
                path: frame.sourcePath, time: UTCTime.iso8601(frame.validTime),
                detail: "the transforms \(TransformChain(Array(chain.steps.prefix(steps ?? chain.steps.count))).summary) make \(values[bad]) "
                    + "of the valid value \(physical[bad]) at \(cell); check the source's calibration and units, or the transform parameters")
        }
        transformed = values
    }
}

/// The frames of the windows in progress, each read and prepared once. Frames before the current
/// window are dropped, so memory holds about one window of frames whatever the archive's length.
final class FrameCache {
    private let series: FrameSeries
    private let coarsen: Int
    private let chain: TransformChain
    private var frames: [Int: PreparedFrame] = [:]
    /// Frames read so far.
    private(set) var reads = 0

    init(series: FrameSeries, coarsen: Int, chain: TransformChain) {
        self.series = series
        self.coarsen = coarsen
        self.chain = chain
    }

    /// Frames `indices`, those not yet cached read and prepared in parallel (one per core at a time).
    func frames(_ indices: Range<Int>) throws -> [PreparedFrame] {
        let missing = indices.filter { frames[$0] == nil }
        if !missing.isEmpty {
            var prepared = [PreparedFrame?](repeating: nil, count: missing.count)
            let failures = ErrorBox()
            prepared.withUnsafeMutableBufferPointer { slots in
                DispatchQueue.concurrentPerform(iterations: missing.count) { k in
                    do { slots[k] = try PreparedFrame(series: series, index: missing[k], coarsen: coarsen, chain: chain) } catch {
                        failures.record(error)
                    }
                }
            }
            if let error = failures.first { throw error }
            for (k, index) in missing.enumerated() { frames[index] = prepared[k] }
            reads += missing.count
        }
        return indices.compactMap { frames[$0] }
    }

    /// Drops frames before `index`.
    func evict(before index: Int) {
        for key in frames.keys where key < index { frames[key] = nil }
    }
}

/// Block-mean coarsening that ignores missing values (a block with no valid value stays missing).
public enum Coarsening {
    /// Coarsens an `ny` x `nx` field by `factor`; rows and columns beyond a whole block are dropped.
    public static func blockMean(_ values: [Float], ny: Int, nx: Int, factor: Int) -> [Float] {
        guard factor > 1 else { return values }
        let (cy, cx) = (ny / factor, nx / factor)
        var output = [Float](repeating: .nan, count: cy * cx)
        for by in 0..<cy {
            for bx in 0..<cx {
                var sum = 0.0, n = 0
                for y in (by * factor)..<((by + 1) * factor) {
                    for x in (bx * factor)..<((bx + 1) * factor) {
                        let v = values[y * nx + x]
                        if !v.isNaN { sum += Double(v); n += 1 }
                    }
                }
                if n > 0 { output[by * cx + bx] = Float(sum / Double(n)) }
            }
        }
        return output
    }
}
