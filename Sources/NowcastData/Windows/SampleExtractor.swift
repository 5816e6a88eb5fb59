/// Window -> samples, the step of the data path between the window plan and the store: cuts each
/// patch of a window's frames (coarsened, in physical and in model units), puts the physical values
/// through the sample filters and gives the kept samples in model units.
struct SampleExtractor {
    /// Patch origins (row, column) in coarsened cells, row by row.
    let origins: [(y: Int, x: Int)]
    private let filter: SampleFilter
    private let rows, columns, gridColumns: Int
    private var physical: [Float], transformed: [Float]

    /// The extractor of `spec` on a `ny` x `nx` grid, judging samples by `filters`; the cells of
    /// `staticMissing` are left out of the fractions when the filters say so.
    init(spec: WindowSpec, ny: Int, nx: Int, filters: WindowFilters, staticMissing: StaticMissing) {
        let origins = spec.patchOrigins(ny: ny, nx: nx)
        (rows, columns) = spec.sampleShape(ny: ny, nx: nx)
        gridColumns = nx / spec.coarsen
        let (rows, columns) = (rows, columns)
        filter = SampleFilter(filters: filters, inputs: spec.inputs, frameCells: rows * columns,
                              staticCells: filters.excludeStaticMissing && staticMissing.count > 0
                                  ? origins.map { staticMissing.patch(origin: $0, rows: rows, columns: columns) } : nil)
        self.origins = origins
        physical = [Float](repeating: 0, count: spec.length * rows * columns)
        transformed = physical
    }

    /// The sample cut at patch `patch` of `frames` (the window's, oldest first) in model units, or
    /// nil when the filters reject it; either way it is counted in `counts`.
    mutating func sample(_ frames: [PreparedFrame], patch: Int, counts: inout Manifest.Counts) -> [Float]? {
        let origin = origins[patch]
        // The patch of every frame, a row at a time.
        for (t, frame) in frames.enumerated() {
            for row in 0..<rows {
                let source = (origin.y + row) * gridColumns + origin.x, target = (t * rows + row) * columns
                physical[target..<(target + columns)] = frame.physical[source..<(source + columns)]
                transformed[target..<(target + columns)] = frame.transformed[source..<(source + columns)]
            }
        }
        counts.samplesExamined += 1
        return filter.passes(physical, patch: patch, counts: &counts) ? transformed : nil
    }
}
