/// STEPS's incremental precipitation mask (pySTEPS's `compute_dilated_mask`): the wet pixels
/// dilated by a diamond of `radius` (a 4-connected cross applied `radius` times), then `rim` more
/// crosses, each adding one to the mask, scaled so that the dilated area is 1 and the rim falls
/// linearly to 0: a pixel at city-block distance d from the nearest wet pixel gets
/// (rim + 1 - max(0, d - radius)) / (rim + 1), 0 beyond radius + rim.
public enum DilatedMask {
    public static func weights(wet: [Bool], ny: Int, nx: Int, radius: Int, rim: Int) -> [Float] {
        let distance = cityBlockDistance(wet, ny: ny, nx: nx)
        let (r, k) = (max(0, rim), max(0, radius))
        return distance.map { d in
            let beyond = max(0, d - k)
            return beyond > r ? 0 : Float(r + 1 - beyond) / Float(r + 1)
        }
    }

    /// City-block (4-connected) distance to the nearest true pixel, exact by two raster passes;
    /// `Int.max / 2` everywhere when no pixel is true.
    static func cityBlockDistance(_ wet: [Bool], ny: Int, nx: Int) -> [Int] {
        let far = Int.max / 2
        var d = wet.map { $0 ? 0 : far }
        d.withUnsafeMutableBufferPointer { d in
            for y in 0..<ny {
                for x in 0..<nx {
                    let i = y * nx + x
                    if y > 0 { d[i] = min(d[i], d[i - nx] + 1) }
                    if x > 0 { d[i] = min(d[i], d[i - 1] + 1) }
                }
            }
            for y in stride(from: ny - 1, through: 0, by: -1) {
                for x in stride(from: nx - 1, through: 0, by: -1) {
                    let i = y * nx + x
                    if y < ny - 1 { d[i] = min(d[i], d[i + nx] + 1) }
                    if x < nx - 1 { d[i] = min(d[i], d[i + 1] + 1) }
                }
            }
        }
        return d
    }

    /// The plain definition for tests: dilations by the cross counted one by one.
    public static func referenceWeights(wet: [Bool], ny: Int, nx: Int, radius: Int, rim: Int) -> [Float] {
        func dilate(_ m: [Bool]) -> [Bool] {
            (0..<(ny * nx)).map { i in
                let (y, x) = (i / nx, i % nx)
                return m[i] || (y > 0 && m[i - nx]) || (y < ny - 1 && m[i + nx]) || (x > 0 && m[i - 1]) || (x < nx - 1 && m[i + 1])
            }
        }
        var current = wet
        for _ in 0..<radius { current = dilate(current) }
        var sum = current.map { $0 ? Float(1) : 0 }
        for _ in 0..<rim {
            current = dilate(current)
            for i in sum.indices where current[i] { sum[i] += 1 }
        }
        let top = sum.max() ?? 0
        return sum.map { top > 0 ? $0 / top : 0 }
    }
}
