import Foundation

/// Gaussian band-pass filters on a logarithmic wavenumber scale, as pySTEPS's `filter_gaussian`
/// (Pulkkinen et al. 2019), for splitting a field into `levels` scales. With L the grid's longer
/// side and q = (L / 2)^(1 / levels), level k (from 1) is centred on the wavenumber
/// r_k = (q^(k-1) + q^k) / 2 and weighs wavenumber r by exp(-(log_q r - log_q r_k)^2 / (2 s^2)),
/// s = `gaussScale` (0.5). The weights are normalised to sum to one at every wavenumber, and the
/// mean (wavenumber 0) belongs to the first level alone, so the levels add up to the field.
/// Weights are laid out as `RealFFT2D`'s half spectrum: `ny` rows of `nx / 2 + 1`.
public struct BandpassFilters: Sendable {
    public let ny: Int, nx: Int
    public let levels: Int
    /// Central wavenumber of each level (cycles per domain of the longer side).
    public let centralWavenumbers: [Double]
    /// `weights[k]`: level k's weight at each half-spectrum position.
    public let weights: [[Float]]

    /// Filters for an `ny` x `nx` grid; nil when `levels` is below 3 or more than the grid
    /// resolves: every level must be the largest weight at some whole wavenumber from 1 to L / 2
    /// (otherwise it would hold next to nothing of the field).
    public init?(ny: Int, nx: Int, levels: Int, gaussScale: Double = 0.5) {
        let longest = max(ny, nx)
        guard levels >= 3, ny >= 2, nx >= 2, gaussScale > 0 else { return nil }
        let q = pow(0.5 * Double(longest), 1 / Double(levels))
        guard q > 1 else { return nil }
        let centres = (1...levels).map { k in 0.5 * (pow(q, Double(k - 1)) + pow(q, Double(k))) }
        let width = nx / 2 + 1
        func logQ(_ r: Double) -> Double { r > 0 ? log(r) / log(q) : 0 }
        let dominant = Set((1...max(1, longest / 2)).map { r in
            (0..<levels).min { abs(logQ(Double(r)) - logQ(centres[$0])) < abs(logQ(Double(r)) - logQ(centres[$1])) } ?? 0
        })
        guard dominant.count == levels else { return nil }
        var weights = [[Float]](repeating: [Float](repeating: 0, count: ny * width), count: levels)
        for row in 0..<ny {
            // Rows run over wavenumbers 0, 1, ..., then the negative ones, as FFTW lays them out.
            let ky = Double(row <= ny / 2 ? row : row - ny)
            for column in 0..<width {
                let r = (ky * ky + Double(column * column)).squareRoot()
                let raw = centres.map { c in exp(-pow(logQ(r) - logQ(c), 2) / (2 * gaussScale * gaussScale)) }
                let sum = raw.reduce(0, +)
                for k in 0..<levels {
                    weights[k][row * width + column] = Float(row == 0 && column == 0 ? (k == 0 ? 1 : 0) : raw[k] / sum)
                }
            }
        }
        (self.ny, self.nx, self.levels, centralWavenumbers, self.weights) = (ny, nx, levels, centres, weights)
    }
}
