import NowcastNN

/// Sums over a (2r + 1) x (2r + 1) window around every pixel of a row-major `ny` x `nx` field, the
/// window cut at the edges (pixels outside count as absent, not as zero-valued neighbours: callers
/// that want a mean divide by `count`). Running sums in `Double`, O(pixels) whatever the radius:
/// one pass along rows, one down columns, rows and column blocks split over the engine's workers.
public enum BoxFilter {
    /// The window sums of `field`.
    public static func sums(_ field: [Float], ny: Int, nx: Int, radius r: Int) -> [Float] {
        guard r > 0 else { return field }
        var across = [Float](repeating: 0, count: ny * nx)
        field.withUnsafeBufferPointer { source in
            across.withUnsafeMutableBufferPointer { target in
                let (s, t) = (source.baseAddress!, target.baseAddress!)
                Parallel.forEachRange(ny, grain: 8) { rows in
                    for y in rows { runningSum(s + y * nx, count: nx, radius: r, into: t + y * nx) }
                }
            }
        }
        var result = [Float](repeating: 0, count: ny * nx)
        across.withUnsafeBufferPointer { source in
            result.withUnsafeMutableBufferPointer { target in
                let (s, t) = (source.baseAddress!, target.baseAddress!)
                // Down the columns a block of neighbouring columns at a time, so rows are read in runs.
                let block = 64
                Parallel.forEachRange((nx + block - 1) / block) { blocks in
                    var sum = [Double](repeating: 0, count: block)
                    for b in blocks {
                        let x0 = b * block, width = min(block, nx - x0)
                        for k in 0..<width { sum[k] = 0 }
                        for y in 0..<min(r, ny) { for k in 0..<width { sum[k] += Double(s[y * nx + x0 + k]) } }
                        for y in 0..<ny {
                            if y + r < ny { for k in 0..<width { sum[k] += Double(s[(y + r) * nx + x0 + k]) } }
                            if y - r - 1 >= 0 { for k in 0..<width { sum[k] -= Double(s[(y - r - 1) * nx + x0 + k]) } }
                            for k in 0..<width { t[y * nx + x0 + k] = Float(sum[k]) }
                        }
                    }
                }
            }
        }
        return result
    }

    /// How many grid pixels each window holds (the sums of a field of ones).
    public static func count(ny: Int, nx: Int, radius r: Int) -> [Float] {
        var counts = [Float](repeating: 0, count: ny * nx)
        for y in 0..<ny {
            let rows = Float(min(ny - 1, y + r) - max(0, y - r) + 1)
            for x in 0..<nx { counts[y * nx + x] = rows * Float(min(nx - 1, x + r) - max(0, x - r) + 1) }
        }
        return counts
    }

    /// The plain definition, for tests: every window summed pixel by pixel.
    public static func referenceSums(_ field: [Float], ny: Int, nx: Int, radius r: Int) -> [Float] {
        var result = [Float](repeating: 0, count: ny * nx)
        for y in 0..<ny {
            for x in 0..<nx {
                var sum = 0.0
                for wy in max(0, y - r)...min(ny - 1, y + r) {
                    for wx in max(0, x - r)...min(nx - 1, x + r) { sum += Double(field[wy * nx + wx]) }
                }
                result[y * nx + x] = Float(sum)
            }
        }
        return result
    }

    /// Window sums along one row of `n` values.
    private static func runningSum(_ s: UnsafePointer<Float>, count n: Int, radius r: Int, into t: UnsafeMutablePointer<Float>) {
        var sum = 0.0
        for i in 0..<min(r, n) { sum += Double(s[i]) }
        for i in 0..<n {
            if i + r < n { sum += Double(s[i + r]) }
            if i - r - 1 >= 0 { sum -= Double(s[i - r - 1]) }
            t[i] = Float(sum)
        }
    }
}
