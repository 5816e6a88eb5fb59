import Foundation
import NowcastCore
import NowcastNN
import NowcastPhysics

/// A realistic synthetic radar rain-rate sequence, deterministic per seed. Three ingredients:
/// - a spatially correlated Gaussian field with a power-law spectrum (power ~ k^-3, as observed for
///   rain fields), evolving as an AR(1) process in time (decorrelation time `decorrelationMinutes`);
/// - advection of that field by a smoothly varying motion field (mean flow plus a sinusoidal shear
///   that drifts over time), by semi-Lagrangian bilinear interpolation on a periodic domain;
/// - convective cells that are born, grow, peak and decay while drifting with the flow.
/// Rain rate is a thresholded exponential of the field (mostly dry, heavy tail), and the wet area
/// itself grows and decays through a slowly varying threshold. Values outside an optional circular
/// radar coverage are missing (NaN).
public struct SyntheticRain {
    /// Generator settings.
    public struct Settings: Equatable, Sendable, Codable {
        /// Rows of the output field.
        public var ny: Int
        /// Columns of the output field.
        public var nx: Int
        /// Time step in minutes.
        public var stepMinutes: Double
        /// Seed of every random choice.
        public var seed: UInt64
        /// Cell size in metres (sets how far the rain moves per step).
        public var cellSize: Double = 1000
        /// Temporal decorrelation of the stratiform field, minutes.
        public var decorrelationMinutes: Double = 150
        /// Mean speed of the flow, metres per second.
        public var meanSpeed: Double = 8
        /// Fraction of the domain that is wet on average (0-1).
        public var wetFraction: Double = 0.2
        /// Mark values outside a circle of the domain's size as missing, as a radar's range does.
        public var coverageMask: Bool = true

        public init(ny: Int, nx: Int, stepMinutes: Double, seed: UInt64) {
            self.ny = ny
            self.nx = nx
            self.stepMinutes = stepMinutes
            self.seed = seed
        }
    }

    private struct Cell {
        var y: Double, x: Double
        var radius: Double
        var aspect: Double
        var orientation: Double
        var peak: Double
        var age: Double
        var lifetime: Double
    }

    /// The settings in use.
    public let settings: Settings
    private let n: Int
    private let noise: NoiseFilter
    private let fft: RealFFT2D
    private var random: SeededGenerator
    private var field: [Double]
    private var cells: [Cell] = []
    private var step = 0
    private let flowAngle: Double
    private let shearPhase: Double
    private let intensityPhase: Double
    private let threshold: Double

    /// Sets up the generator; throws when the size or step is out of range.
    public init(settings: Settings) throws {
        guard settings.ny >= 8, settings.nx >= 8, settings.ny <= 8192, settings.nx <= 8192 else {
            throw SyntheticError.invalidParameter(name: "size", expected: "8 to 8192 cells per side", found: "\(settings.ny) x \(settings.nx)")
        }
        guard settings.stepMinutes > 0, settings.stepMinutes <= 1440 else {
            throw SyntheticError.invalidParameter(name: "step", expected: "above 0 and at most 1440 minutes (a day)", found: "\(settings.stepMinutes)")
        }
        guard settings.cellSize > 0, settings.cellSize.isFinite else {
            throw SyntheticError.invalidParameter(name: "cell size", expected: "a positive number of metres", found: "\(settings.cellSize)")
        }
        guard settings.wetFraction > 0, settings.wetFraction < 1 else {
            throw SyntheticError.invalidParameter(name: "wet fraction", expected: "a value between 0 and 1", found: "\(settings.wetFraction)")
        }
        self.settings = settings
        // A periodic domain with a margin, so that structures wrapping round are rarely in view.
        var size = 8
        while size < max(settings.ny, settings.nx) * 5 / 4 { size *= 2 }
        n = size
        guard let noise = NoiseFilter.powerLaw(ny: size, nx: size), let fft = RealFFT2D(ny: size, nx: size) else {
            throw SyntheticError.invalidParameter(name: "noise domain", expected: "a grid FFTW can transform", found: "\(size) x \(size)")
        }
        (self.noise, self.fft) = (noise, fft)
        random = SeededGenerator(seed: settings.seed)
        flowAngle = random.uniform() * 2 * .pi
        shearPhase = random.uniform() * 2 * .pi
        intensityPhase = random.uniform() * 2 * .pi
        threshold = Self.gaussianQuantile(1 - settings.wetFraction)
        field = self.noise.next(using: &random, fft: fft).map(Double.init)
    }

    /// The next field of rain rates in mm/h, `ny * nx` values row-major, NaN outside coverage.
    public mutating func next() -> [Float] {
        if step > 0 { evolve() }
        let frame = render()
        step += 1
        return frame
    }

    // MARK: - Evolution

    private var displacementPerStep: Double {
        settings.meanSpeed * settings.stepMinutes * 60 / settings.cellSize
    }

    /// Motion (rows, columns per step) at a point of the periodic domain: a mean flow whose direction
    /// swings slowly, a shear of the x-motion that varies with y and a swirl of the y-motion that varies with x.
    private func motion(y: Double, x: Double) -> (dy: Double, dx: Double) {
        let (mean, shear, swirl) = flowTerms()
        return (mean.dy + swirl(x), mean.dx + shear(y))
    }

    private func flowTerms() -> (mean: (dy: Double, dx: Double), shear: (Double) -> Double, swirl: (Double) -> Double) {
        let speed = displacementPerStep
        let drift = Double(step) * 0.01
        let angle = flowAngle + 0.3 * sin(2 * .pi * Double(step) * settings.stepMinutes / 720)
        let size = Double(n), phase = shearPhase
        return ((speed * sin(angle), speed * cos(angle)),
                { 0.35 * speed * sin(2 * .pi * $0 / size + phase + drift) },
                { 0.25 * speed * cos(2 * .pi * $0 / size + phase - drift) })
    }

    private mutating func evolve() {
        let a = exp(-settings.stepMinutes / settings.decorrelationMinutes)
        let innovation = (1 - a * a).squareRoot()
        let innovations = noise.next(using: &random, fft: fft).map(Double.init)
        var advected = [Double](repeating: 0, count: n * n)
        // The flow varies by row (shear) and by column (swirl) only: tabulate both once per step.
        let (mean, shear, swirl) = flowTerms()
        let dxOfRow = (0..<n).map { mean.dx + shear(Double($0)) }
        let dyOfColumn = (0..<n).map { mean.dy + swirl(Double($0)) }
        field.withUnsafeBufferPointer { buffer in
            guard let old = buffer.baseAddress else { return }
            for row in 0..<n {
                for column in 0..<n {
                    let tap = BilinearTap<Double>(y: Double(row) - dyOfColumn[column], x: Double(column) - dxOfRow[row], height: n, width: n,
                                                  boundary: .periodic)
                    advected[row * n + column] = a * tap.sample(old) + innovation * innovations[row * n + column]
                }
            }
        }
        field = advected
        for i in cells.indices {
            let m = motion(y: cells[i].y, x: cells[i].x)
            cells[i].y += m.dy
            cells[i].x += m.dx
            cells[i].age += 1
        }
        let (height, width) = (Double(settings.ny), Double(settings.nx))
        cells.removeAll { $0.age > $0.lifetime || $0.y < -4 * $0.radius || $0.y > height + 4 * $0.radius
            || $0.x < -4 * $0.radius || $0.x > width + 4 * $0.radius }
        // Births: about one cell per 180 x 180 km of domain every half hour, kept only where the
        // field is already near raining, so that cells cluster inside rain areas.
        let area = Double(settings.ny * settings.nx) * settings.cellSize * settings.cellSize / 1e6
        let rate = area / (180 * 180) * settings.stepMinutes / 30 * 3
        for _ in 0..<poisson(mean: rate) {
            let y = random.uniform() * Double(settings.ny), x = random.uniform() * Double(settings.nx)
            let lifetimeMinutes = 30 + random.uniform() * 90
            let cell = Cell(y: y, x: x, radius: (2500 + random.uniform() * 5000) / settings.cellSize,
                            aspect: 1 + random.uniform(), orientation: random.uniform() * .pi,
                            peak: 12 * exp(0.7 * random.gaussian()), age: 0, lifetime: lifetimeMinutes / settings.stepMinutes)
            if field[Int(y) * n + Int(x)] > threshold - 0.3 { cells.append(cell) }
        }
    }

    /// A Poisson-distributed count (inversion; fine for the small means used here).
    private mutating func poisson(mean: Double) -> Int {
        var count = 0
        var p = exp(-mean), cumulative = p
        let u = random.uniform()
        while u > cumulative, count < 1000 {
            count += 1
            p *= mean / Double(count)
            cumulative += p
        }
        return count
    }

    private func render() -> [Float] {
        let ny = settings.ny, nx = settings.nx
        // The wet area grows and decays over a few hours.
        let hours = Double(step) * settings.stepMinutes / 60
        let z0 = threshold + 0.25 * sin(2 * .pi * hours / 6 + intensityPhase)
        var rate = [Double](repeating: 0, count: ny * nx)
        for row in 0..<ny {
            for column in 0..<nx {
                let z = field[row * n + column]
                if z > z0 { rate[row * nx + column] = exp(1.3 * (z - z0)) - 1 }
            }
        }
        for cell in cells {
            let envelope = sin(.pi * min(1, cell.age / max(cell.lifetime, 1)))
            let reach = Int((3 * cell.radius).rounded(.up))
            let cy = Int(cell.y.rounded()), cx = Int(cell.x.rounded())
            // A cell that has drifted out of view draws nothing.
            guard cy + reach >= 0, cy - reach < ny, cx + reach >= 0, cx - reach < nx else { continue }
            for row in max(0, cy - reach)...min(ny - 1, cy + reach) {
                for column in max(0, cx - reach)...min(nx - 1, cx + reach) {
                    // An elliptical Gaussian, textured by the correlated field.
                    let dy = Double(row) - cell.y, dx = Double(column) - cell.x
                    let along = dx * cos(cell.orientation) + dy * sin(cell.orientation)
                    let across = -dx * sin(cell.orientation) + dy * cos(cell.orientation)
                    let d2 = along * along / cell.aspect + across * across * cell.aspect
                    let texture = exp(0.5 * field[row * n + column])
                    rate[row * nx + column] += cell.peak * envelope * texture * exp(-d2 / (2 * cell.radius * cell.radius))
                }
            }
        }
        let centreY = Double(ny - 1) / 2, centreX = Double(nx - 1) / 2
        let radius2 = pow(0.5 * Double(min(ny, nx)), 2)
        var output = [Float](repeating: 0, count: ny * nx)
        for row in 0..<ny {
            for column in 0..<nx {
                let i = row * nx + column
                if settings.coverageMask,
                   (Double(row) - centreY) * (Double(row) - centreY) + (Double(column) - centreX) * (Double(column) - centreX) > radius2 {
                    output[i] = .nan
                } else {
                    let r = min(rate[i], 300)
                    output[i] = r < 0.01 ? 0 : Float(r)
                }
            }
        }
        return output
    }

    /// The standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9).
    static func gaussianQuantile(_ p: Double) -> Double {
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        let low = 0.02425
        if p < low {
            let q = (-2 * log(p)).squareRoot()
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        if p > 1 - low { return -gaussianQuantile(1 - p) }
        let q = p - 0.5, r = q * q
        return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    }
}
