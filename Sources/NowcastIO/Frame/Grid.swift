/// The CF grid-mapping variable a field refers to: its name and its attributes
/// (`grid_mapping_name`, `standard_parallel`, ...), carried over unchanged into products.
public struct GridMapping: Equatable, Sendable, Codable {
    /// Name of the grid-mapping variable in the source file (e.g. `proj`, `crs`).
    public var variableName: String
    /// Its attributes, in file order.
    public var attributes: Attributes

    public init(variableName: String, attributes: Attributes) {
        self.variableName = variableName
        self.attributes = attributes
    }

    /// The CF `grid_mapping_name`, e.g. `albers_conical_equal_area`.
    public var name: String? { attributes["grid_mapping_name"]?.stringValue }
}

/// A regular 2-D grid: cell-centre coordinates along x and y and the projection they live in.
/// Row 0 of a field is `y[0]`; whether y grows or falls with the row index is as the file stores it.
public struct Grid: Equatable, Sendable, Codable {
    /// Number of rows.
    public var ny: Int
    /// Number of columns.
    public var nx: Int
    /// Cell-centre x coordinates, `nx` of them, in `xyUnits`.
    public var x: [Double]
    /// Cell-centre y coordinates, `ny` of them, in `xyUnits`.
    public var y: [Double]
    /// Units of `x` and `y`: `m`, `km`, or `1` for a grid with no georeferencing (cell indices).
    public var xyUnits: String
    /// The projection as a PROJ definition (`+proj=...`), when known.
    public var projection: String?
    /// The CF grid mapping, when the source had one.
    public var gridMapping: GridMapping?
    /// Where `projection` came from, e.g. `grid mapping 'crs'`, `global attribute 'gdal_projection'`.
    public var projectionSource: String?

    public init(x: [Double], y: [Double], xyUnits: String, projection: String? = nil, gridMapping: GridMapping? = nil,
                projectionSource: String? = nil) {
        self.nx = x.count
        self.ny = y.count
        self.x = x
        self.y = y
        self.xyUnits = xyUnits
        self.projection = projection
        self.gridMapping = gridMapping
        self.projectionSource = projectionSource
    }

    /// A grid of cell indices (0, 1, 2, ...) for fields without georeferencing.
    public static func indices(ny: Int, nx: Int) -> Grid {
        Grid(x: (0..<nx).map(Double.init), y: (0..<ny).map(Double.init), xyUnits: "1")
    }

    /// True when the grid carries real coordinates rather than cell indices.
    public var isGeoreferenced: Bool { xyUnits != "1" }

    /// Cell width along x (absolute), 1 for a single column.
    public var dx: Double { nx > 1 ? abs(x[1] - x[0]) : 1 }
    /// Cell height along y (absolute), 1 for a single row.
    public var dy: Double { ny > 1 ? abs(y[1] - y[0]) : 1 }

    /// The cell width in kilometres, nil for index grids and degrees.
    public var cellKilometres: Double? {
        switch xyUnits {
        case "km": return dx
        case "m": return dx / 1000
        default: return nil
        }
    }

    /// The grid of `factor` x `factor` block means (what `Coarsening.blockMean` makes of a field):
    /// cell centres are the blocks' centres; rows and columns beyond whole blocks are dropped.
    public func coarsened(by factor: Int) -> Grid {
        guard factor > 1 else { return self }
        func centres(_ values: [Double]) -> [Double] {
            (0..<(values.count / factor)).map { b in values[(b * factor)..<((b + 1) * factor)].reduce(0, +) / Double(factor) }
        }
        var result = self
        result.x = centres(x)
        result.y = centres(y)
        result.nx = result.x.count
        result.ny = result.y.count
        return result
    }

    /// Same size and cell centres (to a thousandth of a cell) in the same units.
    public func matches(_ other: Grid) -> Bool {
        guard ny == other.ny, nx == other.nx, xyUnits == other.xyUnits else { return false }
        let tolerance = 1e-3 * max(dx, dy, 1e-12)
        return zip(x, other.x).allSatisfy { abs($0 - $1) <= tolerance } && zip(y, other.y).allSatisfy { abs($0 - $1) <= tolerance }
    }

    /// The factor f (at least 2) when `coarse` is this grid's f x f block means, nil otherwise.
    public func blockFactor(of coarse: Grid) -> Int? {
        guard coarse.nx > 0, coarse.ny > 0 else { return nil }
        let f = nx / coarse.nx
        return f > 1 && coarsened(by: f).matches(coarse) ? f : nil
    }

    /// A one-line description such as `512 x 512, 0.5 km cells, x -127.75..127.75, y ...`.
    public var summary: String {
        guard isGeoreferenced, let x0 = x.first, let x1 = x.last, let y0 = y.first, let y1 = y.last else {
            return "\(ny) x \(nx) (no georeferencing)"
        }
        return "\(ny) x \(nx), cells \(formatNumber(dx)) x \(formatNumber(dy)) \(xyUnits), "
            + "x \(formatNumber(x0))..\(formatNumber(x1)), y \(formatNumber(y0))..\(formatNumber(y1)) \(xyUnits)"
    }
}

/// A compact rendering of a number: integers without a fraction, others with up to 6 significant digits.
func formatNumber(_ value: Double) -> String {
    if value.isNaN { return "NaN" }
    if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
    var text = String(format: "%.6g", value)
    if text.contains("e") { return text }
    while text.contains("."), text.hasSuffix("0") { text.removeLast() }
    return text
}
