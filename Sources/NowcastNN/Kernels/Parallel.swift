import CBLAS
import Foundation

/// How the engine spreads work over the cores: it splits each operation into independent pieces and
/// runs them on `workers` threads itself, with OpenBLAS kept to one thread per call. (A multi-threaded
/// BLAS called once per image leaves its helper threads spinning between the small products of a
/// convolution, a large share of a U-Net training step.)
public enum Parallel {
    /// Threads used: the active processor count, set once.
    public static let workers: Int = {
        openblas_set_num_threads(1)
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Runs `body` on `count` work items split into at most `workers` contiguous ranges; small jobs
    /// (fewer than `grain` items per worker) run on the calling thread.
    public static func forEachRange(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let pieces = min(workers, max(1, count / max(1, grain)))
        if pieces == 1 { body(0..<count); return }
        DispatchQueue.concurrentPerform(iterations: pieces) { k in
            body((k * count / pieces)..<((k + 1) * count / pieces))
        }
    }

    /// Runs `body(item, worker)` for every item, each worker taking a contiguous share; `worker`
    /// indexes per-worker scratch space (0..<workers).
    public static func forEach(_ count: Int, _ body: (_ item: Int, _ worker: Int) -> Void) {
        guard count > 0 else { return }
        let pieces = min(workers, count)
        if pieces == 1 { for i in 0..<count { body(i, 0) }; return }
        DispatchQueue.concurrentPerform(iterations: pieces) { k in
            for i in (k * count / pieces)..<((k + 1) * count / pieces) { body(i, k) }
        }
    }
}
