import Foundation
import NowcastCore
import NowcastNN

/// Learns an equation system's trainable coefficients from data, as PDE-NetGen trains its
/// closures: pairs of states one time step apart, the system stepped once from the first by the
/// integrator, the mean squared error to the second minimised by Adam in minibatches, in stages
/// whose learning rate falls tenfold each. The states are all fields; every coefficient is a
/// scalar, fixed or trainable.
public struct EquationFit: Sendable {
    /// States at time t and t + dt: `now[s]` and `next[s]` hold state `s` of every pair, each
    /// pair's field `rows` x `columns` (1 x N for a 1-D field) in order.
    public struct Pairs: Sendable {
        public var now: [[Float]], next: [[Float]]
        public let count: Int, rows: Int, columns: Int
        public init(now: [[Float]], next: [[Float]], count: Int, rows: Int, columns: Int) throws {
            let size = count * rows * columns
            guard count > 0, rows > 0, columns > 0 else { throw PhysicsError.input(expected: "at least one pair of states", found: "\(count) pairs of \(rows) x \(columns)") }
            guard now.count == next.count, (now + next).allSatisfy({ $0.count == size }) else {
                throw PhysicsError.input(expected: "\(size) values of every state at both times", found: "\((now + next).map(\.count)) for \(now.count) and \(next.count) states")
            }
            guard (now + next).allSatisfy({ $0.allSatisfy(\.isFinite) }) else {
                throw PhysicsError.input(expected: "finite states", found: "NaN or Inf among the pairs")
            }
            (self.now, self.next, self.count, self.rows, self.columns) = (now, next, count, rows, columns)
            meanSquares = try now.enumerated().map { s, values in
                let square = Float(values.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(values.count))
                guard square > 0, square.isFinite else {
                    throw PhysicsError.input(expected: "states that are not zero everywhere", found: "state \(s + 1) zero at every point")
                }
                return square
            }
        }

        /// Each state's mean square over the pairs' first times, the scale of its loss.
        public let meanSquares: [Float]
    }

    public struct Settings: Sendable, Equatable {
        /// `adam`: PDE-NetGen's minibatches in stages of falling learning rate. `lbfgs`: L-BFGS on
        /// the loss over all pairs, for few coefficients in a narrow valley (closures whose terms
        /// are much alike), where Adam crawls.
        public enum Method: String, Sendable, CaseIterable { case adam, lbfgs }
        public var method = Method.adam
        /// L-BFGS: iterations at most (each evaluates every pair at least once).
        public var iterations = 100
        /// Adam's learning rate in the first stage; each later stage takes a tenth of the one before.
        public var learningRate: Float = 0.1
        public var stages = 3
        /// Passes over the pairs in each stage.
        public var epochs = 30
        public var batchSize = 32
        /// Seed of the minibatches' order.
        public var seed: UInt64 = 1
        public init() {}
    }

    /// The mean loss over each epoch (for L-BFGS, each evaluation over all pairs), and the
    /// coefficients at the end.
    public struct Result: Sendable {
        public var coefficients: [String: Float]
        public var epochLosses: [Float]
    }

    public let system: EquationSystem
    public let operators: FiniteDifferences
    public let integrator: TimeIntegrator
    public let dt: Float

    public init(system: EquationSystem, operators: FiniteDifferences, integrator: TimeIntegrator, dt: Float) throws {
        guard system.inputs.isEmpty, system.networks.isEmpty else {
            throw PhysicsError.input(expected: "an equation of states and coefficients only", found: "inputs \(system.inputs), neural terms \(system.networks)")
        }
        guard dt > 0, dt.isFinite else { throw PhysicsError.input(expected: "a positive time step", found: "dt \(dt)") }
        (self.system, self.operators, self.integrator, self.dt) = (system, operators, integrator, dt)
    }

    /// Fits the coefficients named in `trainable` from their starting values, the others held at
    /// `fixed`; every coefficient of the system must be in one of the two. `progress` is told each
    /// epoch's mean loss.
    public func fit(_ pairs: Pairs, fixed: [String: Float], trainable: [String: Float], settings: Settings = Settings(),
                    progress: ((_ epoch: Int, _ loss: Float) -> Void)? = nil) throws -> Result {
        guard pairs.now.count == system.states.count else {
            throw PhysicsError.input(expected: "pairs of the equation's \(system.states.count) states (\(system.states.joined(separator: ", ")))", found: "\(pairs.now.count) states")
        }
        for name in system.coefficients where fixed[name] == nil && trainable[name] == nil {
            throw PhysicsError.input(expected: "a fixed or trainable value of coefficient '\(name)'", found: "none")
        }
        guard settings.stages >= 1, settings.epochs >= 1, settings.batchSize >= 1, settings.learningRate > 0 else {
            throw PhysicsError.input(expected: "stages, epochs and batch size at least 1 and a positive learning rate",
                                    found: "\(settings.stages), \(settings.epochs), \(settings.batchSize) and \(settings.learningRate)")
        }
        var values: [String: Variable] = [:]
        for (name, value) in fixed { values[name] = Variable(Tensor(shape: [1], repeating: value)) }
        let learned = trainable.keys.sorted()
        for name in learned { values[name] = Variable(Tensor(shape: [1], repeating: trainable[name] ?? 0), requiresGrad: true) }
        let parameters = learned.compactMap { values[$0] }
        let bindings = EquationSystem.Bindings(coefficients: values)

        if settings.method == .lbfgs {
            return try fitByLBFGS(pairs, learned: learned, values: values, bindings: bindings, settings: settings, progress: progress)
        }
        var adam = Adam(learningRate: settings.learningRate)
        var random = SeededGenerator(seed: settings.seed)
        var order = Array(0..<pairs.count)
        var losses: [Float] = []
        for stage in 0..<settings.stages {
            adam.learningRate = settings.learningRate / pow(10, Float(stage))
            for _ in 0..<settings.epochs {
                order.shuffle(using: &random)
                var sum: Double = 0
                for start in stride(from: 0, to: pairs.count, by: settings.batchSize) {
                    let batch = Array(order[start..<min(start + settings.batchSize, pairs.count)])
                    let loss = try batchLoss(pairs, batch, bindings)
                    for p in parameters { p.zeroGrad() }
                    try loss.backward()
                    try adam.step(parameters)
                    sum += Double(loss.value[0]) * Double(batch.count)
                }
                let mean = Float(sum / Double(pairs.count))
                guard mean.isFinite, parameters.allSatisfy({ $0.value[0].isFinite }) else {
                    throw PhysicsError.input(expected: "a fit that converges (a smaller learning rate or other starting values may)",
                                            found: "loss \(mean) in epoch \(losses.count + 1)")
                }
                losses.append(mean)
                progress?(losses.count, mean)
            }
        }
        return Result(coefficients: Dictionary(uniqueKeysWithValues: learned.map { ($0, values[$0]?.value[0] ?? .nan) }), epochLosses: losses)
    }

    private func fitByLBFGS(_ pairs: Pairs, learned: [String], values: [String: Variable], bindings: EquationSystem.Bindings,
                            settings: Settings, progress: ((_ epoch: Int, _ loss: Float) -> Void)?) throws -> Result {
        let parameters = learned.compactMap { values[$0] }
        var x = parameters.map { $0.value[0] }
        var losses: [Float] = []
        let all = Array(0..<pairs.count)
        try LBFGS(iterations: settings.iterations, relativeTolerance: 1e-10).minimize(&x) { trial in
            for (p, value) in zip(parameters, trial) { try p.assign(Tensor(shape: [1], repeating: value)); p.zeroGrad() }
            var cost = 0.0
            for start in stride(from: 0, to: pairs.count, by: settings.batchSize) {
                let batch = Array(all[start..<min(start + settings.batchSize, pairs.count)])
                let loss = try batchLoss(pairs, batch, bindings).scaled(by: Float(batch.count) / Float(pairs.count))
                try loss.backward()   // gradients add up over the batches
                cost += Double(loss.value[0])
            }
            losses.append(Float(cost))
            progress?(losses.count, Float(cost))
            return (cost, parameters.map { $0.grad?[0] ?? 0 })
        }
        guard x.allSatisfy(\.isFinite) else {
            throw PhysicsError.input(expected: "a fit that converges (other starting values may)", found: "coefficients \(x)")
        }
        return Result(coefficients: Dictionary(uniqueKeysWithValues: zip(learned, x).map { ($0, $1) }), epochLosses: losses)
    }

    /// The mean over the states of each state's mean squared error after one step relative to the
    /// state's mean square over the pairs, so that states in other units count alike. (PDE-NetGen
    /// takes the plain mean squared error of the stacked states; with a variance of 1e-5 and a
    /// diffusion of 1e-4 its gradients fall below Adam's epsilon, and the fit stalls.)
    public func batchLoss(_ pairs: Pairs, _ batch: [Int], _ bindings: EquationSystem.Bindings) throws -> Variable {
        let plane = pairs.rows * pairs.columns
        func gather(_ values: [Float]) throws -> Variable {
            var out = [Float](); out.reserveCapacity(batch.count * plane)
            for i in batch { out.append(contentsOf: values[(i * plane)..<((i + 1) * plane)]) }
            return Variable(try Tensor(shape: [batch.count, 1, pairs.rows, pairs.columns], values: out))
        }
        let stepped = try system.step(try pairs.now.map(gather), bindings, operators: operators, integrator: integrator, dt: dt)
        var total: Variable?
        for (s, (state, target)) in zip(stepped, try pairs.next.map(gather)).enumerated() {
            let loss = try state.meanSquaredError(target).scaled(by: 1 / pairs.meanSquares[s])
            total = try total.map { try $0 + loss } ?? loss
        }
        guard let total else { throw PhysicsError.input(expected: "an equation with a state", found: "none") }
        return total.scaled(by: 1 / Float(stepped.count))
    }
}
