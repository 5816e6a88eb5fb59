import Foundation
import NowcastCore
import NowcastNN

/// The uncertainty experiment of Pannekoucke et al. (2018) that PDE-NetGen trains its closure on:
/// ensembles of the 1-D viscous Burgers equation dt(u) = kappa dxx(u) - u dx(u) on a periodic
/// domain, started from a perturbed cosine with Gaussian-correlated errors, and diagnosed at each
/// saved step as the parametric Kalman filter's fields: the ensemble mean, the variance V and the
/// diffusion nu = 1 / (2 E[(dx eps)^2]) of the normalised error eps. Each trajectory is one
/// background state and its own ensemble; everything is seeded, one stream per trajectory.
public struct BurgersEnsemble: Sendable {
    public struct Settings: Sendable, Equatable {
        /// Grid points on the periodic domain.
        public var points = 241
        /// Domain length.
        public var length = 1.0
        /// Diffusion coefficient.
        public var kappa = 0.0025
        /// Time step of the RK4 integration.
        public var dt = 0.002
        /// Steps integrated from the initial state.
        public var steps = 500
        /// The first step diagnosed and kept (the earlier ones only spin the fronts up).
        public var keptFrom = 400
        /// Members of each trajectory's ensemble.
        public var members = 400
        /// Correlation length of the initial errors (Gaussian correlation), in domain units.
        public var correlationLength = 0.02
        /// Initial error standard deviation as a fraction of the initial state's maximum.
        public var errorFraction = 0.01
        public var seed: UInt64 = 1
        public init() {}
    }

    /// One trajectory's diagnosed fields, each `[time][point]` flattened, times `keptFrom...steps`.
    public struct Trajectory: Sendable {
        public var mean: [Float]
        public var variance: [Float]
        public var diffusion: [Float]
    }

    public let settings: Settings
    /// Times kept, in the equation's time unit.
    public var times: [Double] { (settings.keptFrom...settings.steps).map { Double($0) * settings.dt } }
    /// Grid coordinates.
    public var coordinates: [Double] { (0..<settings.points).map { Double($0) * spacing } }
    public var spacing: Double { settings.length / Double(settings.points) }

    public init(_ settings: Settings) throws {
        let s = settings
        func refuse(_ name: String, _ expected: String, _ found: Any) -> SyntheticError {
            .invalidParameter(name: "Burgers ensemble \(name)", expected: expected, found: "\(found)")
        }
        guard s.points >= 8 else { throw refuse("points", "at least 8", s.points) }
        guard s.members >= 2 else { throw refuse("members", "at least 2", s.members) }
        for (name, value) in [("length", s.length), ("dt", s.dt), ("correlation length", s.correlationLength), ("error fraction", s.errorFraction)] {
            guard value > 0, value.isFinite else { throw refuse(name, "a positive finite number", value) }
        }
        guard s.kappa >= 0, s.kappa.isFinite else { throw refuse("kappa", "a finite number at least 0", s.kappa) }
        guard s.steps >= 1 else { throw refuse("steps", "at least 1", s.steps) }
        guard (0...s.steps).contains(s.keptFrom) else { throw refuse("kept-from step", "0...\(s.steps)", s.keptFrom) }
        let h = s.length / Double(s.points)
        let courant = 0.5 * s.dt / h, diffusionNumber = s.kappa * s.dt / (h * h)
        guard courant <= 1, diffusionNumber <= 0.5 else {
            throw refuse("dt", String(format: "a stable step on %d points (Courant number at most 1, diffusion number at most 0.5)", s.points),
                         String(format: "%g (Courant %.2f, diffusion number %.2f)", s.dt, courant, diffusionNumber))
        }
        self.settings = s
    }

    /// The initial state 0.25 (1 + cos(2 pi (x - 0.25) / L)).
    public var initialState: [Double] {
        coordinates.map { 0.25 * (1 + cos(2 * .pi * ($0 - 0.25) / settings.length)) }
    }

    /// Trajectory `index`: a background drawn about the initial state, its ensemble integrated and
    /// diagnosed at every kept step.
    public func trajectory(_ index: Int) -> Trajectory {
        let n = settings.points, m = settings.members
        var random = SeededGenerator(seed: settings.seed, stream: UInt64(index))
        let errors = CorrelatedErrors(points: n, correlationLength: settings.correlationLength / spacing)
        let u0 = initialState
        let sigma = settings.errorFraction * (u0.max() ?? 0)
        let background = zip(u0, errors.sample(&random)).map { $0 + sigma * $1 }
        var members = [Double](repeating: 0, count: m * n)
        for k in 0..<m {
            let e = errors.sample(&random)
            for i in 0..<n { members[k * n + i] = background[i] + sigma * e[i] }
        }
        var out = Trajectory(mean: [], variance: [], diffusion: [])
        let kept = settings.steps - settings.keptFrom + 1
        out.mean.reserveCapacity(kept * n); out.variance.reserveCapacity(kept * n); out.diffusion.reserveCapacity(kept * n)
        let scheme = BurgersRK4(points: n, h: spacing, kappa: settings.kappa, dt: settings.dt)
        for step in 0...settings.steps {
            if step >= settings.keptFrom { diagnose(members, into: &out) }
            if step < settings.steps { members.withUnsafeMutableBufferPointer { scheme.step($0, rows: m) } }
        }
        return out
    }

    /// Trajectories `0..<count` on every core, in order; `progress` is told how many are done.
    public func trajectories(_ count: Int, progress: (@Sendable (Int) -> Void)? = nil) -> [Trajectory] {
        var results = [Trajectory?](repeating: nil, count: count)
        let lock = NSLock()
        nonisolated(unsafe) var done = 0
        results.withUnsafeMutableBufferPointer { slots in
            nonisolated(unsafe) let slots = slots
            Parallel.forEach(count) { index, _ in
                slots[index] = trajectory(index)   // each index written by one worker only
                lock.lock(); done += 1; let finished = done; lock.unlock()
                progress?(finished)
            }
        }
        return results.compactMap { $0 }
    }

    /// Mean, variance (population, as numpy's `std`) and diffusion of the members.
    func diagnose(_ members: [Double], into out: inout Trajectory) {
        let n = settings.points, m = settings.members, h = spacing
        var mean = [Double](repeating: 0, count: n), variance = mean, metric = mean
        for k in 0..<m { for i in 0..<n { mean[i] += members[k * n + i] } }
        for i in 0..<n { mean[i] /= Double(m) }
        for k in 0..<m { for i in 0..<n { let d = members[k * n + i] - mean[i]; variance[i] += d * d } }
        for i in 0..<n { variance[i] /= Double(m) }
        let std = variance.map { $0.squareRoot() }
        for k in 0..<m {
            for i in 0..<n {
                let (left, right) = ((i + n - 1) % n, (i + 1) % n)
                let derivative = ((members[k * n + right] - mean[right]) / std[right] - (members[k * n + left] - mean[left]) / std[left]) / (2 * h)
                metric[i] += derivative * derivative
            }
        }
        for i in 0..<n {
            out.mean.append(Float(mean[i]))
            out.variance.append(Float(variance[i]))
            out.diffusion.append(Float(0.5 / (metric[i] / Double(m))))
        }
    }
}

/// Gaussian samples of unit variance with a homogeneous Gaussian correlation on a periodic grid:
/// white noise filtered by the square root of the correlation's spectrum (a circular convolution
/// with that filter's kernel, computed once).
struct CorrelatedErrors {
    let kernel: [Double]

    init(points n: Int, correlationLength: Double) {
        let correlation = (0..<n).map { j -> Double in
            let d = Double(min(j, n - j))
            return exp(-0.5 * d * d / (correlationLength * correlationLength))
        }
        let rootSpectrum = (0..<n).map { k -> Double in
            let s = (0..<n).reduce(0.0) { $0 + correlation[$1] * cos(2 * .pi * Double(k * $1 % n) / Double(n)) }
            return max(0, s).squareRoot()
        }
        kernel = (0..<n).map { j in
            (0..<n).reduce(0.0) { $0 + rootSpectrum[$1] * cos(2 * .pi * Double(j * $1 % n) / Double(n)) } / Double(n)
        }
    }

    func sample(_ random: inout SeededGenerator) -> [Double] {
        let n = kernel.count
        let white = (0..<n).map { _ in random.gaussian() }
        return (0..<n).map { i in
            var sum = 0.0
            for j in 0..<n { sum += kernel[j] * white[(i - j + n) % n] }
            return sum
        }
    }
}

/// Classical RK4 of the Burgers equation with centred differences, on rows of a batch in place.
struct BurgersRK4 {
    let n: Int
    let inverse2H: Double, inverseH2: Double, kappa: Double, dt: Double

    init(points: Int, h: Double, kappa: Double, dt: Double) {
        n = points
        inverse2H = 1 / (2 * h); inverseH2 = 1 / (h * h)
        self.kappa = kappa; self.dt = dt
    }

    /// kappa dxx(u) - u dx(u) of one row.
    func trend(_ u: UnsafePointer<Double>, _ out: UnsafeMutablePointer<Double>) {
        for i in 0..<n {
            let left = u[i == 0 ? n - 1 : i - 1], right = u[i == n - 1 ? 0 : i + 1], centre = u[i]
            out[i] = kappa * (left - 2 * centre + right) * inverseH2 - centre * (right - left) * inverse2H
        }
    }

    func step(_ batch: UnsafeMutableBufferPointer<Double>, rows: Int) {
        guard let base = batch.baseAddress else { return }
        let n = self.n, dt = self.dt
        let scratch = UnsafeMutablePointer<Double>.allocate(capacity: 5 * n)
        defer { scratch.deallocate() }
        let (s, k1, k2, k3, k4) = (scratch, scratch + n, scratch + 2 * n, scratch + 3 * n, scratch + 4 * n)
        for row in 0..<rows {
            let u = base + row * n
            trend(u, k1)
            for i in 0..<n { s[i] = u[i] + 0.5 * dt * k1[i] }
            trend(s, k2)
            for i in 0..<n { s[i] = u[i] + 0.5 * dt * k2[i] }
            trend(s, k3)
            for i in 0..<n { s[i] = u[i] + dt * k3[i] }
            trend(s, k4)
            for i in 0..<n { u[i] += dt / 6 * (k1[i] + 2 * (k2[i] + k3[i]) + k4[i]) }
        }
    }
}
