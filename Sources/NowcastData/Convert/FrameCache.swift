import Foundation
import NowcastIO

/// The frames of the windows in progress, each read and prepared once: coarsened physical values
/// (for the filters) and transformed values (for the store). Frames before the current window are
/// dropped, so memory holds about one window of frames whatever the archive's length.
final class FrameCache {
    struct Prepared {
        var physical: [Float]
        var transformed: [Float]
    }

    private let series: FrameSeries
    private let coarsen: Int
    private let chain: TransformChain
    private var frames: [Int: Prepared] = [:]
    /// Frames read so far.
    private(set) var reads = 0

    init(series: FrameSeries, coarsen: Int, chain: TransformChain) {
        self.series = series
        self.coarsen = coarsen
        self.chain = chain
    }

    /// Frames `indices`, those not yet cached read and prepared in parallel (one per core at a time).
    func frames(_ indices: Range<Int>) throws -> [Prepared] {
        let missing = indices.filter { frames[$0] == nil }
        if !missing.isEmpty {
            var prepared = [Prepared?](repeating: nil, count: missing.count)
            let failures = ErrorBox()
            prepared.withUnsafeMutableBufferPointer { slots in
                DispatchQueue.concurrentPerform(iterations: missing.count) { k in
                    do { slots[k] = try prepare(missing[k]) } catch { failures.record(error) }
                }
            }
            if let error = failures.first { throw error }
            for (k, index) in missing.enumerated() { frames[index] = prepared[k] }
            reads += missing.count
        }
        return indices.compactMap { frames[$0] }
    }

    /// Reads, coarsens and transforms one frame; thread-safe.
    private func prepare(_ index: Int) throws -> Prepared {
        let physical = Coarsening.blockMean(try series.readFrameConcurrently(index).values, ny: series.grid.ny, nx: series.grid.nx, factor: coarsen)
        var transformed = physical
        transformed.withUnsafeMutableBufferPointer { chain.forward($0) }
        return Prepared(physical: physical, transformed: transformed)
    }

    /// Drops frames before `index`.
    func evict(before index: Int) {
        for key in frames.keys where key < index { frames[key] = nil }
    }
}

/// Block-mean coarsening that ignores missing values (a block with no valid value stays missing).
enum Coarsening {
    /// Coarsens an `ny` x `nx` field by `factor`; rows and columns beyond a whole block are dropped.
    static func blockMean(_ values: [Float], ny: Int, nx: Int, factor: Int) -> [Float] {
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

