import Foundation

/// One 2-D field at one valid time: `Float32` values with NaN for missing, row-major (`ny` rows of
/// `nx`), its grid, units, quantity and where it came from.
public struct Frame: Sendable {
    /// Values, row-major; NaN marks missing data whatever the file's convention.
    public var values: [Float]
    /// The grid the values live on.
    public var grid: Grid
    /// Valid time (UTC); for accumulations, the end of the period.
    public var validTime: Date
    /// Start of the observation or accumulation period, when the file says.
    public var startTime: Date?
    /// End of the observation or accumulation period, when the file says.
    public var endTime: Date?
    /// Units as the file states them (e.g. `mm h-1`, `kg m-2`, `dBZ`).
    public var units: String
    /// What the field is: a CF standard name or an ODIM quantity (e.g. `RATE`).
    public var quantity: String
    /// File the frame was read from.
    public var sourcePath: String
    /// Variable or dataset the frame was read from.
    public var sourceVariable: String
    /// Stored values that were NaN or infinite where the format says a value is valid (or whose
    /// decoding overflowed): they are missing (NaN) in `values`, and counted here.
    public var nonFiniteCount: Int

    public init(values: [Float], grid: Grid, validTime: Date, startTime: Date? = nil, endTime: Date? = nil,
                units: String, quantity: String, sourcePath: String, sourceVariable: String, nonFiniteCount: Int = 0) {
        self.values = values
        self.grid = grid
        self.validTime = validTime
        self.startTime = startTime
        self.endTime = endTime
        self.units = units
        self.quantity = quantity
        self.sourcePath = sourcePath
        self.sourceVariable = sourceVariable
        self.nonFiniteCount = nonFiniteCount
    }

    /// Number of rows.
    public var ny: Int { grid.ny }
    /// Number of columns.
    public var nx: Int { grid.nx }

    /// The value at row `y`, column `x`.
    public subscript(y: Int, x: Int) -> Float { values[y * grid.nx + x] }

    /// Minimum, maximum, mean and the missing and zero fractions of the values.
    public var statistics: FieldStatistics { FieldStatistics(values) }
}

/// Summary statistics of a field, NaN-aware.
public struct FieldStatistics: Equatable, Sendable, Codable {
    /// Smallest valid value (NaN when every value is missing).
    public var min: Double
    /// Largest valid value (NaN when every value is missing).
    public var max: Double
    /// Mean of the valid values (NaN when every value is missing).
    public var mean: Double
    /// Share of values that are missing (NaN).
    public var missingFraction: Double
    /// Share of all values that are exactly zero.
    public var zeroFraction: Double

    /// Computes the statistics in one pass.
    public init<C: Collection>(_ values: C) where C.Element == Float {
        var low = Float.infinity, high = -Float.infinity
        var sum = 0.0, valid = 0, missing = 0, zeros = 0
        for v in values {
            if v.isNaN { missing += 1; continue }
            valid += 1
            sum += Double(v)
            if v < low { low = v }
            if v > high { high = v }
            if v == 0 { zeros += 1 }
        }
        let total = Swift.max(1, values.count)
        min = valid > 0 ? Double(low) : .nan
        max = valid > 0 ? Double(high) : .nan
        mean = valid > 0 ? sum / Double(valid) : .nan
        missingFraction = Double(missing) / Double(total)
        zeroFraction = Double(zeros) / Double(total)
    }

    public static func == (a: FieldStatistics, b: FieldStatistics) -> Bool {
        func same(_ x: Double, _ y: Double) -> Bool { x == y || (x.isNaN && y.isNaN) }
        return same(a.min, b.min) && same(a.max, b.max) && same(a.mean, b.mean)
            && a.missingFraction == b.missingFraction && a.zeroFraction == b.zeroFraction
    }
}
