import Foundation

/// Wavenumber radii of a half spectrum (`RealFFT2D`'s layout) and radial averages over them, as
/// pySTEPS's `rapsd`: a position's radius is the length of its signed frequency indices
/// (cycles per domain along each axis, so on a non-square grid the axes' units differ, as in
/// pySTEPS), and ring r averages every position of the full spectrum whose radius rounds to r, for
/// r below max(ny, nx) / 2 (one more ring when that is odd).
public struct RadialSpectrum: Sendable {
    public let ny: Int, nx: Int
    /// The radius of each half-spectrum position.
    public let radii: [Double]

    public init(ny: Int, nx: Int) {
        let width = nx / 2 + 1
        (self.ny, self.nx) = (ny, nx)
        radii = (0..<(ny * width)).map { k in
            let fy = Double(Self.signed(k / width, ny)), fx = Double(k % width)
            return (fy * fy + fx * fx).squareRoot()
        }
    }

    /// Rings of the average.
    public var rings: Int { max(ny, nx) % 2 == 1 ? max(ny, nx) / 2 + 1 : max(ny, nx) / 2 }

    /// The ring averages of `values` given per half-spectrum position (a power, say); a column past
    /// the half spectrum takes the value of its mirror (-ky, -kx), as a real field's spectrum does.
    /// A ring no position falls in is NaN.
    public func average(_ values: [Double]) -> [Double] {
        let width = nx / 2 + 1
        var sums = [Double](repeating: 0, count: rings), counts = sums
        for row in 0..<ny {
            for column in 0..<nx {
                let fy = Double(Self.signed(row, ny)), fx = Double(Self.signed(column, nx))
                let ring = Int((fy * fy + fx * fx).squareRoot().rounded())
                guard ring < rings else { continue }
                let index = column < width ? row * width + column : ((ny - row) % ny) * width + (nx - column)
                sums[ring] += values[index]
                counts[ring] += 1
            }
        }
        return zip(sums, counts).map { $1 > 0 ? $0 / $1 : .nan }
    }

    /// The signed frequency of index `i` of `n` (numpy's `fftfreq` times `n`).
    static func signed(_ i: Int, _ n: Int) -> Int { i <= (n - 1) / 2 ? i : i - n }
}
