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

    /// Frame `index`, read and prepared on first use.
    func frame(_ index: Int) throws -> Prepared {
        if let cached = frames[index] { return cached }
        let physical = Coarsening.blockMean(try series.frame(index).values, ny: series.grid.ny, nx: series.grid.nx, factor: coarsen)
        var transformed = physical
        transformed.withUnsafeMutableBufferPointer { chain.forward($0) }
        let prepared = Prepared(physical: physical, transformed: transformed)
        frames[index] = prepared
        reads += 1
        return prepared
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
