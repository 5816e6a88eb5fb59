import NowcastNN

/// Variational motion (the idea of VET, Laroche and Zawadzki 1995, pySTEPS's `vet`): the motion
/// field that minimises the misfit between each frame and the next one read back along the motion,
/// plus a smoothness penalty, fitted through the engine's differentiable warp.
///
/// The motion lives on a control grid of one point per `spacing` pixels, bilinearly upsampled to
/// every pixel (so it is smooth between points, as VET's sectors are). The cost at a level of the
/// image pyramid (2 x 2 means) is the mean over pixels and consecutive pairs of
/// (next(x + m(x)) - frame(x))^2, in the fields' units, plus `smoothness` times the mean over control
/// points of m_xx^2 + m_yy^2 + 2 m_xy^2 (both components, control-grid units). It is minimised by
/// L-BFGS from the coarsest level, whose control grid has about `coarsestControl` points on its shorter
/// side, to the finest, each level starting from the coarser one's motion. Missing pixels (NaN) are
/// read as `missing`, normally the no-rain value, and so is everything beyond the grid.
public struct VariationalMotion: Sendable {
    /// The method's parameters; the defaults are tuned for radar fields in dBR.
    public struct Settings: Codable, Equatable, Sendable {
        /// Pixels of a level per control point.
        public var spacing = 8
        /// The coarsest level is the last halving whose control grid's shorter side is at least this.
        public var coarsestControl = 4
        /// Weight of the smoothness penalty against the misfit.
        public var smoothness: Float = 10
        /// L-BFGS iterations at each level.
        public var iterations = 40

        public init() {}
    }

    public var settings: Settings

    public init(settings: Settings = Settings()) { self.settings = settings }

    /// The motion per step of `frames` (oldest first, two or more, `ny * nx` values each).
    public func motion(_ frames: [[Float]], ny: Int, nx: Int, missing: Float) throws -> MotionField {
        try MotionField.checkEstimatorInput(frames, ny: ny, nx: nx, missing: missing)
        guard settings.spacing >= 1, settings.coarsestControl >= 2, settings.smoothness >= 0, settings.smoothness.isFinite, settings.iterations >= 1 else {
            throw PhysicsError.input(expected: "variational motion settings with spacing >= 1, coarsest control grid >= 2, smoothness >= 0, iterations >= 1",
                                     found: "\(settings)")
        }
        // Levels: halvings while the control grid keeps `coarsestControl` points on its shorter side.
        var halvings = 0
        while min(ny, nx) >> (halvings + 1) >= settings.spacing * settings.coarsestControl { halvings += 1 }
        // The grid padded with the missing value so that every level divides by the spacing.
        let block = settings.spacing << halvings
        let (py, px) = ((ny + block - 1) / block * block, (nx + block - 1) / block * block)
        var pyramid = [try Self.padded(frames, ny: ny, nx: nx, to: (py, px), missing: missing)]
        for _ in 0..<halvings { pyramid.append(try pyramid[pyramid.count - 1].averagePool(size: 2)) }

        var control: [Float] = []
        var (cy, cx) = (0, 0)
        for level in (0...halvings).reversed() {
            let images = pyramid[level]
            let (h, w) = (images.shape[2], images.shape[3])
            if control.isEmpty {
                (cy, cx) = (h / settings.spacing, w / settings.spacing)
                control = [Float](repeating: 0, count: 2 * cy * cx)
            } else {
                control = try Self.refined(control, cy: cy, cx: cx)
                (cy, cx) = (2 * cy, 2 * cx)
            }
            let (shape, all, plane) = ([1, 2, cy, cx], images.value.scalars, h * w)
            let frames = try (0..<images.shape[0]).map { t in
                Variable(try Tensor(shape: [1, 1, h, w], values: Array(all[(t * plane)..<((t + 1) * plane)])))
            }
            let (earlier, later) = (Array(frames.dropLast()), Array(frames.dropFirst()))
            let grid = ((ny + (1 << level) - 1) >> level, (nx + (1 << level) - 1) >> level)
            try LBFGS(iterations: settings.iterations).minimize(&control) { values in
                let motion = Variable(try Tensor(shape: shape, values: values), requiresGrad: true)
                let cost = try self.cost(motion, earlier: earlier, later: later, grid: grid)
                try cost.backward()
                guard let gradient = motion.grad?.scalars else {
                    throw PhysicsError.input(expected: "a motion cost with a gradient", found: "none")
                }
                return (Double(cost.value.scalar ?? .nan), gradient)
            }
        }
        // The finest control grid upsampled to every pixel, cut back to the grid.
        let dense = try Tensor(shape: [1, 2, cy, cx], values: control)
        let field = try Variable(dense).upsampleBilinear(scale: settings.spacing).value.scalars
        var u = [Float](repeating: 0, count: ny * nx), v = u
        for row in 0..<ny {
            for column in 0..<nx {
                u[row * nx + column] = field[row * px + column]
                v[row * nx + column] = field[(py + row) * px + column]
            }
        }
        let motion = MotionField(ny: ny, nx: nx, u: u, v: v)
        guard motion.isFinite else { throw PhysicsError.input(expected: "fields whose motion cost stays finite", found: "a non-finite motion") }
        return motion
    }

    /// The misfit of the frames read along `motion` (control grid `[1, 2, cy, cx]`) plus the smoothness
    /// penalty; `earlier` and `later` are the pairs' frames `[1, 1, H, W]`, less the missing value, of
    /// which the top-left `grid` (rows, columns) is the observed grid and the rest padding.
    func cost(_ motion: Variable, earlier: [Variable], later: [Variable], grid: (Int, Int)) throws -> Variable {
        let flow = try motion.upsampleBilinear(scale: settings.spacing)
        let observed = Variable(try Self.observed(flow.value, grid: grid))
        var misfit: Variable?
        for (first, next) in zip(earlier, later) {
            let residual = try (next.warped(by: flow) - first) * observed
            let pair = try (residual * residual).mean()
            misfit = try misfit.map { try $0 + pair } ?? pair
        }
        guard var misfit else { throw PhysicsError.input(expected: "one or more pairs of frames", found: "none") }
        misfit = misfit.scaled(by: 1 / Float(earlier.count))
        guard settings.smoothness > 0 else { return misfit }
        let operators = FiniteDifferences(x: .zeroGradient, y: .zeroGradient)
        let (xx, yy, xy) = (try operators.dxx(motion), try operators.dyy(motion), try operators.dxy(motion))
        let roughness = try (xx * xx + yy * yy + (xy * xy).scaled(by: 2)).mean()
        return try misfit + roughness.scaled(by: settings.smoothness)
    }

    /// One where a pixel of the observed `grid` reads the next frame inside that grid under `flow`
    /// (`[1, 2, H, W]`), zero elsewhere: what lies beyond the grid is unknown, not dry, and counting
    /// it as dry would pull the motion at the outflow edges, and through the smoothness penalty the
    /// interior, towards zero.
    static func observed(_ flow: Tensor, grid: (Int, Int)) throws -> Tensor {
        let (h, w) = (flow.shape[2], flow.shape[3])
        let displacement = flow.scalars
        var mask = [Float](repeating: 0, count: h * w)
        for row in 0..<grid.0 {
            for column in 0..<grid.1 {
                let p = row * w + column
                let (x, y) = (Float(column) + displacement[p], Float(row) + displacement[h * w + p])
                if x >= 0, y >= 0, x <= Float(grid.1 - 1), y <= Float(grid.0 - 1) { mask[p] = 1 }
            }
        }
        return try Tensor(shape: [1, 1, h, w], values: mask)
    }

    /// The frames as `[T, 1, py, px]`, less `missing` (so that zero, what the warp reads beyond the
    /// grid, is the missing value), NaN read as missing, padded at the bottom and right.
    static func padded(_ frames: [[Float]], ny: Int, nx: Int, to size: (Int, Int), missing: Float) throws -> Variable {
        let (py, px) = size
        var values = [Float](repeating: 0, count: frames.count * py * px)
        for (t, frame) in frames.enumerated() {
            for row in 0..<ny {
                for column in 0..<nx {
                    let value = frame[row * nx + column]
                    values[(t * py + row) * px + column] = value.isNaN ? 0 : value - missing
                }
            }
        }
        return Variable(try Tensor(shape: [frames.count, 1, py, px], values: values))
    }

    /// A control grid `[2, cy, cx]` doubled in both directions (bilinear, as the motion is read
    /// between points) and in value (a finer level's pixels are half the size).
    static func refined(_ control: [Float], cy: Int, cx: Int) throws -> [Float] {
        let grid = try Variable(Tensor(shape: [1, 2, cy, cx], values: control)).upsampleBilinear(scale: 2)
        return grid.value.scalars.map { 2 * $0 }
    }
}
