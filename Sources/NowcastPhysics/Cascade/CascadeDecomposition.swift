import Foundation

/// A field split into the scales of `BandpassFilters` (pySTEPS's `decomposition_fft`): each level
/// is the inverse transform of the field's spectrum times the level's weights, and carries its
/// mean and standard deviation so that it can be normalised (STEPS works on normalised levels).
/// Adding the levels back (`recomposed`) gives the field to float precision.
public struct CascadeDecomposition: Sendable {
    /// Level fields in physical (not normalised) values, `ny * nx` each.
    public var levels: [[Float]]
    public var means: [Double]
    public var standardDeviations: [Double]

    /// Decomposes `field` (finite values, `ny * nx` of the filters' grid) with `fft` (of the same grid).
    public init(field: [Float], filters: BandpassFilters, fft: RealFFT2D) throws {
        guard fft.ny == filters.ny, fft.nx == filters.nx, field.count == filters.ny * filters.nx else {
            throw PhysicsError.input(expected: "a \(filters.ny) x \(filters.nx) field and transform", found: "\(field.count) values, transform \(fft.ny) x \(fft.nx)")
        }
        if let bad = field.firstIndex(where: { !$0.isFinite }) {
            throw PhysicsError.input(expected: "finite values to decompose (fill missing pixels first)",
                                     found: "\(field[bad]) at row \(bad / filters.nx), column \(bad % filters.nx)")
        }
        let spectrum = fft.forward(field)
        var levels: [[Float]] = [], means: [Double] = [], deviations: [Double] = []
        var filtered = [Float](repeating: 0, count: spectrum.count)
        for weights in filters.weights {
            for i in 0..<weights.count {
                filtered[2 * i] = spectrum[2 * i] * weights[i]
                filtered[2 * i + 1] = spectrum[2 * i + 1] * weights[i]
            }
            let level = fft.inverse(filtered)
            let mean = level.reduce(0.0) { $0 + Double($1) } / Double(level.count)
            let variance = level.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(level.count)
            levels.append(level)
            means.append(mean)
            deviations.append(variance.squareRoot())
        }
        (self.levels, self.means, standardDeviations) = (levels, means, deviations)
    }

    /// Level `k` normalised to mean 0 and standard deviation 1 (zeros for a constant level).
    public func normalised(_ k: Int) -> [Float] {
        let (mean, deviation) = (means[k], standardDeviations[k])
        return levels[k].map { deviation > 0 ? Float((Double($0) - mean) / deviation) : 0 }
    }

    /// The sum of the levels: the field decomposed.
    public var recomposed: [Float] {
        var sum = [Float](repeating: 0, count: levels.first?.count ?? 0)
        for level in levels { for i in sum.indices { sum[i] += level[i] } }
        return sum
    }
}
