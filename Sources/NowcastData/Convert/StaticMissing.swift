import Foundation
import NowcastCore
import NowcastIO

/// The part of the missing data that is the same in every frame: the cells outside the radars'
/// coverage (a circle inside a square grid, a national border). Measured once per conversion on
/// up to `sampleFrames` frames spread evenly over the series, on the grid samples are cut from
/// (coarsened); a cell missing in all of them is static. The filters leave these cells out of a
/// sample's missing and wet fractions by default, so that a composite whose corners are never
/// observed is not rejected for them.
struct StaticMissing: Equatable {
    /// Frames examined at most.
    static let sampleFrames = 32

    /// True for the static cells, row-major over the (coarsened) grid.
    let mask: [Bool]
    /// Columns of the grid.
    let columns: Int
    /// Frames examined.
    let framesExamined: Int
    /// Static cells.
    var count: Int { mask.reduce(0) { $0 + ($1 ? 1 : 0) } }

    /// Examines the frames of `series` (read concurrently), coarsened by `coarsen`.
    init(series: FrameSeries, coarsen: Int) throws {
        let count = series.count
        let picks = count <= Self.sampleFrames ? Array(0..<count)
            : (0..<Self.sampleFrames).map { $0 * (count - 1) / (Self.sampleFrames - 1) }
        let cells = (series.grid.ny / coarsen) * (series.grid.nx / coarsen)
        var missing = [[Bool]](repeating: [], count: picks.count)
        let failures = ErrorBox()
        missing.withUnsafeMutableBufferPointer { slots in
            DispatchQueue.concurrentPerform(iterations: picks.count) { k in
                do {
                    let frame = try series.readFrameConcurrently(picks[k])
                    slots[k] = Coarsening.blockMean(frame.values, ny: series.grid.ny, nx: series.grid.nx, factor: coarsen).map(\.isNaN)
                } catch { failures.record(error) }
            }
        }
        if let error = failures.first { throw error }
        mask = (0..<cells).map { cell in missing.allSatisfy { $0[cell] } }
        columns = series.grid.nx / coarsen
        framesExamined = picks.count
    }

    /// The mask inside the patch of `rows` x `width` cells at `origin`, row-major.
    func patch(origin: (y: Int, x: Int), rows: Int, columns width: Int) -> [Bool] {
        var cells: [Bool] = []
        cells.reserveCapacity(rows * width)
        for row in 0..<rows {
            let start = (origin.y + row) * columns + origin.x
            cells += mask[start..<(start + width)]
        }
        return cells
    }

    /// What a manifest records.
    var summary: Manifest.StaticMissing {
        let fraction = mask.isEmpty ? 0 : Double(count) / Double(mask.count)
        return Manifest.StaticMissing(framesExamined: framesExamined, cells: count, fraction: fraction)
    }
}
