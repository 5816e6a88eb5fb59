import ArgumentParser
import Foundation
import NowcastCore
import NowcastIO
import NowcastPhysics
import NowcastSynthetic

/// `nowcast equation`: evolution equations on their own, outside a nowcasting model.
struct Equation: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fit an equation's coefficients to state trajectories, and make such trajectories.",
        subcommands: [EquationFitCommand.self, BurgersEnsembleCommand.self])
}

/// `nowcast equation fit`: PDE-NetGen's training of unknown terms, on any NetCDF of trajectories.
struct EquationFitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit",
        abstract: "Learn an equation's trainable coefficients from one-step pairs of state trajectories (RK4 and Adam, as PDE-NetGen).",
        discussion: """
            The data file holds one variable per state of the equation over (trajectory, time, x) or \
            (trajectory, time, y, x), and the coordinates time, x (and y); every pair of consecutive times \
            of a trajectory is one training pair. The grid spacing comes from x (and y), dt from time.
            """ + helpExamples(
                "nowcast equation burgers-ensemble -o /tmp/pkf.nc --trajectories 100 --members 400",
                "nowcast equation fit --data /tmp/pkf.nc --equation @docs/equations/pkf-burgers.eq --coefficient kappa=0.0025 --train a=0 --train b=0 --train c=0"))

    @Option(help: "NetCDF of state trajectories (as nowcast equation burgers-ensemble writes).")
    var data: String

    @Option(help: "The system, one 'dt(STATE) = ...' per line (operators dx dy dxx dyy dxy lap div; see docs/PHYSICS.md), or @FILE to read it from FILE.")
    var equation: String

    @Option(name: .customLong("coefficient"), help: "A fixed coefficient, NAME=VALUE (repeatable).")
    var fixed: [String] = []

    @Option(name: .customLong("train"), help: "A trainable coefficient and its starting value, NAME=VALUE (repeatable).")
    var trainable: [String] = []

    @Option(help: "Boundary of both axes: periodic, zero-gradient, replicate or fixed:VALUE.")
    var boundary: String = "periodic"

    @Option(help: "Time scheme: euler, rk2 or rk4.")
    var scheme: TimeIntegrator.Scheme = .rk4

    @Option(help: "Sub-steps of the scheme per time step of the data.")
    var substeps: Int = 1

    @Option(help: "Optimiser: adam (PDE-NetGen's minibatches and stages) or lbfgs (all pairs at once; for a few coefficients in a narrow valley).")
    var method: EquationFit.Settings.Method = .adam

    @Option(help: "L-BFGS: iterations at most.")
    var iterations: Int = 100

    @Option(help: "Adam's learning rate in the first stage; each later stage takes a tenth of the one before.")
    var learningRate: Float = 0.1

    @Option(help: "Stages of falling learning rate.")
    var stages: Int = 3

    @Option(help: "Passes over the pairs per stage.")
    var epochs: Int = 30

    @Option(help: "Pairs per minibatch.")
    var batchSize: Int = 32

    @Option(help: "Seed of the minibatches' order.")
    var seed: UInt64 = 1

    @Option(name: .shortAndLong, help: "Also write the result as JSON here.")
    var output: String?

    func run() throws {
        guard let edge = GridBoundary(parsing: boundary) else {
            throw ValidationError("--boundary '\(boundary)': expected periodic, zero-gradient, replicate or fixed:VALUE")
        }
        guard substeps >= 1 else { throw ValidationError("--substeps \(substeps): expected at least 1") }
        let fixedValues = try Dictionary(fixed.map { try namedNumber($0, flag: "--coefficient", example: "kappa=0.0025") }, uniquingKeysWith: { $1 })
        let startValues = try Dictionary(trainable.map { try namedNumber($0, flag: "--train", example: "a=0") }, uniquingKeysWith: { $1 })
        if let both = fixedValues.keys.first(where: { startValues[$0] != nil }) {
            throw ValidationError("'\(both)' is given both as --coefficient and as --train: choose one")
        }
        guard !startValues.isEmpty else { throw ValidationError("nothing to fit: give at least one --train NAME=VALUE") }
        let text: String
        if equation.hasPrefix("@") {
            let path = String(equation.dropFirst())
            guard let contents = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ValidationError("--equation @\(path): cannot read \(path); expected a text file of equations")
            }
            text = contents
        } else {
            text = equation
        }
        let system = try EquationSystem(text, coefficients: (fixedValues.keys.sorted() + startValues.keys.sorted()))
        let trajectories = try StateTrajectories.read(data, states: system.states)
        let (hx, dt) = (try uniformSpacing(trajectories.x, "x"), try uniformSpacing(trajectories.times, "time"))
        let hy = try trajectories.y.map { try uniformSpacing($0, "y") } ?? 1
        let pairs = try Self.pairs(trajectories)
        let fit = try EquationFit(system: system, operators: FiniteDifferences(hx: Float(hx), hy: Float(hy), x: edge, y: edge),
                                  integrator: TimeIntegrator(scheme: scheme, substeps: substeps), dt: Float(dt))
        var settings = EquationFit.Settings()
        (settings.method, settings.iterations) = (method, iterations)
        (settings.learningRate, settings.stages, settings.epochs, settings.batchSize, settings.seed) = (learningRate, stages, epochs, batchSize, seed)
        print("fitting \(startValues.keys.sorted().joined(separator: ", ")) on \(pairs.count) pairs from \(trajectories.trajectories) trajectories of \(trajectories.times.count) times, "
            + "\(pairs.rows) x \(pairs.columns) points, dt \(String(format: "%g", dt))")
        let started = Date()
        let progress = method == .adam ? Progress("fit", total: stages * epochs, unit: "epochs") : Progress("fit", total: iterations, unit: "evaluations")
        let result = try fit.fit(pairs, fixed: fixedValues, trainable: startValues, settings: settings) { epoch, loss in
            progress.update(epoch, detail: String(format: "loss %.4g", loss))
        }
        let seconds = Date().timeIntervalSince(started)
        for name in startValues.keys.sorted() {
            print(String(format: "%@  %.6g  (from %g)", name.padding(toLength: 12, withPad: " ", startingAt: 0), result.coefficients[name] ?? .nan, startValues[name] ?? 0))
        }
        print(String(format: "final loss %.4g after %d %@ in %.1f s", result.epochLosses.last ?? .nan, result.epochLosses.count,
                     method == .adam ? "epochs" : "evaluations", seconds))
        if let output {
            try JSONCoding.write(FitReport(data: data, equation: text, method: method.rawValue, pairs: pairs.count, fixed: fixedValues, start: startValues,
                                           fitted: result.coefficients, epochLosses: result.epochLosses, seconds: seconds), to: output)
            print("wrote \(output)")
        }
    }

    /// Every pair of consecutive times of every trajectory.
    static func pairs(_ t: StateTrajectories) throws -> EquationFit.Pairs {
        let (steps, plane) = (t.times.count, t.plane)
        guard steps >= 2 else { throw ValidationError("--data: \(steps) time in the file; pairs need at least 2") }
        var now = [[Float]](repeating: [], count: t.states.count), next = now
        for (s, state) in t.states.enumerated() {
            for trajectory in 0..<t.trajectories {
                let base = trajectory * steps * plane
                now[s].append(contentsOf: state.values[base..<(base + (steps - 1) * plane)])
                next[s].append(contentsOf: state.values[(base + plane)..<(base + steps * plane)])
            }
        }
        return try EquationFit.Pairs(now: now, next: next, count: t.trajectories * (steps - 1), rows: t.y?.count ?? 1, columns: t.x.count)
    }

    private func uniformSpacing(_ values: [Double], _ name: String) throws -> Double {
        guard values.count >= 2, let first = values.first, let last = values.last else { return 1 }
        let h = (last - first) / Double(values.count - 1)
        guard h > 0, zip(values, values.dropFirst()).allSatisfy({ abs(($1 - $0) - h) <= 1e-6 * abs(h) }) else {
            throw ValidationError("--data \(data): coordinate '\(name)' is not evenly spaced and increasing; the finite differences need a uniform grid")
        }
        return h
    }
}

/// What `nowcast equation fit -o` writes.
struct FitReport: Codable {
    var data: String
    var equation: String
    var method: String
    var pairs: Int
    var fixed: [String: Float]
    var start: [String: Float]
    var fitted: [String: Float]
    var epochLosses: [Float]
    var seconds: Double
}

/// `nowcast equation burgers-ensemble`: the data of PDE-NetGen's closure experiment.
struct BurgersEnsembleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "burgers-ensemble",
        abstract: "Ensemble-diagnosed Burgers trajectories (mean u, variance V, diffusion nu) for learning the PKF closure.",
        discussion: """
            Each trajectory is a background drawn about 0.25 (1 + cos(2 pi (x - 0.25))), an ensemble of \
            MEMBERS perturbations with Gaussian-correlated errors, integrated by RK4 and diagnosed at every \
            kept step (Pannekoucke et al. 2018; PDE-NetGen's closure notebook). Runs on every core.
            """ + helpExamples("nowcast equation burgers-ensemble -o /tmp/pkf.nc --trajectories 100 --members 400 --seed 1"))

    @Option(name: .shortAndLong, help: "Output NetCDF file.")
    var output: String

    @Option(help: "Trajectories (each its own background and ensemble).")
    var trajectories: Int = 100

    @Option(help: "Members of each ensemble.")
    var members: Int = 400

    @Option(help: "Grid points on the periodic domain of length 1.")
    var points: Int = 241

    @Option(help: "Diffusion coefficient kappa.")
    var kappa: Double = 0.0025

    @Option(help: "Time step.")
    var dt: Double = 0.002

    @Option(help: "Steps integrated.")
    var steps: Int = 500

    @Option(help: "First step kept (the earlier ones form the fronts).")
    var keptFrom: Int = 400

    @Option(help: "Seed.")
    var seed: UInt64 = 1

    func run() throws {
        guard trajectories >= 1 else { throw ValidationError("--trajectories \(trajectories): expected at least 1") }
        var settings = BurgersEnsemble.Settings()
        (settings.members, settings.points, settings.kappa, settings.dt, settings.steps, settings.keptFrom, settings.seed) =
            (members, points, kappa, dt, steps, keptFrom, seed)
        let ensemble = try BurgersEnsemble(settings)
        let started = Date()
        let progress = Progress("burgers", total: trajectories, unit: "trajectories")
        let runs = ensemble.trajectories(trajectories) { progress.update($0) }
        let data = try StateTrajectories(
            states: [("u", runs.flatMap(\.mean)), ("V", runs.flatMap(\.variance)), ("nu", runs.flatMap(\.diffusion))],
            times: ensemble.times, x: ensemble.coordinates, trajectories: trajectories,
            attributes: Attributes([("title", .text("Ensemble-diagnosed Burgers trajectories (PKF closure experiment)")),
                                    ("source", .text("nowcast equation burgers-ensemble")),
                                    ("kappa", .numbers(.float64, [kappa])), ("members", .numbers(.int32, [Double(members)])),
                                    ("seed", .numbers(.float64, [Double(seed)]))]))
        try data.write(to: output)
        print(String(format: "wrote %d trajectories of %d times x %d points (%d members each) to %@ in %.1f s",
                     trajectories, ensemble.times.count, points, members, output, Date().timeIntervalSince(started)))
    }
}

extension TimeIntegrator.Scheme: ExpressibleByArgument {}
extension EquationFit.Settings.Method: ExpressibleByArgument {}
