import Foundation
import NowcastCore
import NowcastNN
import NowcastPhysics

/// Where a hybrid model's motion comes from.
public enum HybridMotion: String, Codable, Sendable, CaseIterable {
    /// A U-Net of the input frames, trained with the rest.
    case network
    /// Dense Lucas-Kanade on the input frames, as extrapolation estimates it: not learned, so the
    /// model starts where extrapolation is and learns only what the equation leaves to its terms.
    case lucasKanade = "lucas-kanade"
}

/// How a hybrid model moves the rain by its motion.
public enum HybridAdvection: String, Codable, Sendable, CaseIterable {
    /// Through the equation: its `u*dx(q) + v*dy(q)` terms, upwind differences, RK sub-steps.
    case finiteDifferences = "finite-differences"
    /// By the semi-Lagrangian warp once a frame (q read back along the motion, bilinearly, dry
    /// beyond the grid), then the equation's other terms: it holds the rest (`dt(q) = S(q)`),
    /// without `u` and `v`. No numerical diffusion, no Courant limit (NowcastNet's "warp, then add").
    case semiLagrangian = "semi-lagrangian"
}

/// Which network each neural term of a hybrid model's equation is.
public enum HybridTermNetwork: String, Codable, Sendable, CaseIterable {
    /// A U-Net of the term's arguments at the frame's start.
    case unet
    /// A ConvLSTM that has read the input frames first and steps once a frame, so a term such as
    /// `S(q)` can follow a growth or decay it has seen; each term takes one field.
    case convlstm
}

/// The network behind one neural term.
public enum NeuralTermNetwork {
    case unet(UNet)
    case recurrent(RecurrentNowcaster)

    public var namedVariables: [(name: String, variable: Variable)] {
        switch self { case .unet(let n): return n.namedVariables; case .recurrent(let n): return n.namedVariables }
    }
    var dropoutRate: Float {
        get { switch self { case .unet(let n): return n.dropoutRate; case .recurrent(let n): return n.dropoutRate } }
        nonmutating set { switch self { case .unet(let n): n.dropoutRate = newValue; case .recurrent(let n): n.dropoutRate = newValue } }
    }
    var dropoutDraws: SeededGenerator? {
        get { switch self { case .unet(let n): return n.dropoutDraws; case .recurrent(let n): return n.dropoutDraws } }
        nonmutating set { switch self { case .unet(let n): n.dropoutDraws = newValue; case .recurrent(let n): n.dropoutDraws = newValue } }
    }
}

/// What makes a `HybridNowcaster`: its evolution equation and how it is solved, and the sizes of
/// its networks.
public struct HybridConfig: Codable, Equatable, Sendable {
    public var inputFrames: Int
    public var outputFrames: Int
    /// One equation `dt(q) = ...` of the state `q` (the rain field in model units), with the motion
    /// `u`, `v` (pixels per frame, from the motion network), trainable coefficients and neural terms.
    public var equation: String
    /// Trainable scalar coefficients of the equation and their initial values.
    public var coefficients: [String: Float]
    /// Order of the upwind differences of the advection products (1 or 2).
    public var upwindOrder: Int
    /// What lies beyond the grid's edges.
    public var boundary: String
    public var scheme: TimeIntegrator.Scheme
    /// The largest motion, pixels per frame; each frame is split into enough sub-steps to keep
    /// the Courant number at or below 1.
    public var maxSpeed: Float
    /// U-Net sizes of the motion network (frames in, u and v out) and of each neural term.
    public var base: Int, depth: Int
    /// Where `u` and `v` come from.
    public var motion: HybridMotion
    /// How the motion moves `q`.
    public var advection: HybridAdvection
    /// The neural terms' networks, and a ConvLSTM term's hidden channels per layer.
    public var termNetwork: HybridTermNetwork
    public var termHidden: [Int]

    public static let defaultEquation = "dt(q) = -(u*dx(q) + v*dy(q)) + S(q)"

    public init(inputFrames: Int, outputFrames: Int, equation: String = HybridConfig.defaultEquation, coefficients: [String: Float] = [:],
                upwindOrder: Int = 1, boundary: String = "zero-gradient", scheme: TimeIntegrator.Scheme = .rk2, maxSpeed: Float = 4,
                base: Int = 8, depth: Int = 2, motion: HybridMotion = .network, advection: HybridAdvection = .finiteDifferences,
                termNetwork: HybridTermNetwork = .unet, termHidden: [Int] = [16]) {
        (self.inputFrames, self.outputFrames, self.equation, self.coefficients) = (inputFrames, outputFrames, equation, coefficients)
        (self.upwindOrder, self.boundary, self.scheme, self.maxSpeed, self.base, self.depth) = (upwindOrder, boundary, scheme, maxSpeed, base, depth)
        (self.motion, self.advection, self.termNetwork, self.termHidden) = (motion, advection, termNetwork, termHidden)
    }

    /// Sub-steps per frame: |u|, |v| <= maxSpeed, so 2 maxSpeed sub-steps keep (|u| + |v|) dt / h <= 1.
    public var substeps: Int { max(1, Int((2 * maxSpeed).rounded(.up))) }
}

/// A physics-hybrid nowcaster: a motion network (a U-Net on the input frames) or dense
/// Lucas-Kanade on them (`HybridConfig.motion`) gives a velocity field, and the state q, starting
/// from the latest frame, is stepped frame by frame through the configured evolution equation (`EquationSystem`, by default advection by that motion plus a
/// learned source `S(q)`), solved by upwind finite differences and RK sub-steps; everything but
/// the advection itself is learned. The network's velocity is `maxSpeed * tanh(raw)` per
/// component, Lucas-Kanade's is clipped to `maxSpeed`, so the sub-steps keep the Courant number
/// at or below 1 by construction. Neural terms (U-Nets or ConvLSTMs, `HybridConfig.termNetwork`)
/// are evaluated once per frame, on the state at its start, and held over its sub-steps (operator splitting:
/// the advection is sub-stepped, the networks run once a frame). With semi-Lagrangian advection
/// (`HybridConfig.advection`) q is warped by the motion once a frame and the equation adds the rest.
public final class HybridNowcaster: SequenceModel {
    public let config: HybridConfig
    public let system: EquationSystem
    /// The motion network (nil when the motion is Lucas-Kanade's).
    public let motion: UNet?
    /// The neural terms' networks by name.
    public let terms: [(name: String, network: NeuralTermNetwork)]
    /// The trainable coefficients by name.
    public let coefficients: [(name: String, value: Variable)]
    private let operators: FiniteDifferences
    private let integrator: TimeIntegrator

    public init(config: HybridConfig, seed: UInt64) throws {
        let (system, terms, boundary) = try Self.checked(config)
        if config.motion == .lucasKanade, config.inputFrames < 2 {
            throw ModelError.invalidSetting(key: "model.motion", expected: "two or more input frames for lucas-kanade", found: "\(config.inputFrames)")
        }
        self.system = system
        (self.config, operators) = (config, FiniteDifferences(hx: 1, hy: 1, x: boundary, y: boundary))
        integrator = TimeIntegrator(scheme: config.scheme, substeps: config.substeps)
        motion = config.motion == .network
            ? try UNet(config: UNetConfig(inputChannels: config.inputFrames, outputChannels: 2, base: config.base, depth: config.depth), seed: seed) : nil
        self.terms = try terms.keys.sorted().enumerated().map { k, name -> (String, NeuralTermNetwork) in
            let termSeed = seed &+ UInt64(k + 1)
            switch config.termNetwork {
            case .unet:
                return (name, .unet(try UNet(config: UNetConfig(inputChannels: terms[name] ?? 1, outputChannels: 1, base: config.base, depth: config.depth), seed: termSeed)))
            case .convlstm:
                let recurrent = RecurrentConfig(cell: .lstm, channels: 1, hidden: config.termHidden, kernel: 3, inputFrames: config.inputFrames, outputFrames: 1)
                return (name, .recurrent(try RecurrentNowcaster(config: recurrent, seed: termSeed)))
            }
        }
        coefficients = config.coefficients.keys.sorted().map { ($0, Variable(Tensor(shape: [1], repeating: config.coefficients[$0] ?? 0), requiresGrad: true)) }
    }

    /// The equation, its neural terms (name: arguments) and the boundary of `config`; throws
    /// naming the key that does not make a model.
    public static func checked(_ config: HybridConfig) throws -> (EquationSystem, [String: Int], GridBoundary) {
        guard config.inputFrames >= 1, config.outputFrames >= 1 else {
            throw ModelError.invalidSetting(key: "frames", expected: "at least one input and one output frame", found: "\(config.inputFrames) -> \(config.outputFrames)")
        }
        guard config.maxSpeed > 0, config.maxSpeed <= 64 else {
            throw ModelError.invalidSetting(key: "model.max_speed", expected: "pixels per frame above 0, at most 64", found: "\(config.maxSpeed)")
        }
        guard config.upwindOrder == 1 || config.upwindOrder == 2 else {
            throw ModelError.invalidSetting(key: "model.upwind_order", expected: "1 or 2", found: "\(config.upwindOrder)")
        }
        guard let boundary = GridBoundary(parsing: config.boundary) else {
            throw ModelError.invalidSetting(key: "model.boundary", expected: "periodic, zero-gradient, replicate or fixed:VALUE", found: config.boundary)
        }
        guard config.coefficients.values.allSatisfy(\.isFinite) else {
            throw ModelError.invalidSetting(key: "model.coefficients", expected: "finite initial values", found: "\(config.coefficients)")
        }
        let system: EquationSystem, terms: [String: Int]
        let warped = config.advection == .semiLagrangian
        do {
            terms = try EquationSystem.neuralTerms(in: config.equation)
            system = try EquationSystem(config.equation, inputs: warped ? [] : ["u", "v"], coefficients: config.coefficients.keys.sorted(),
                                        networks: terms.keys.sorted(), advection: .upwind(order: config.upwindOrder))
        } catch let error as EquationError {
            let expected = warped ? "an evolution equation of q without u and v: semi-lagrangian advection moves q itself, the equation holds the rest, e.g. dt(q) = S(q)"
                : "an evolution equation of q (docs/PHYSICS.md)"
            throw ModelError.invalidSetting(key: "model.equation", expected: expected, found: "\(error)")
        }
        guard system.states == ["q"] else {
            throw ModelError.invalidSetting(key: "model.equation", expected: "one equation, dt(q) = ..., of the rain field q", found: "dt of \(system.states.joined(separator: ", "))")
        }
        if config.termNetwork == .convlstm {
            if let (name, count) = terms.first(where: { $0.value != 1 }) {
                throw ModelError.invalidSetting(key: "model.term_network", expected: "convlstm terms of one field each", found: "\(name) takes \(count)")
            }
            guard !config.termHidden.isEmpty, config.termHidden.allSatisfy({ $0 >= 1 }) else {
                throw ModelError.invalidSetting(key: "model.hidden", expected: "a list of positive channel counts for the convlstm terms", found: "\(config.termHidden)")
            }
        }
        return (system, terms, boundary)
    }

    public var inputFrames: Int { config.inputFrames }
    public var outputFrames: Int { config.outputFrames }
    public var dropoutRate: Float {
        get { terms.first?.network.dropoutRate ?? 0 }
        set { for t in terms { t.network.dropoutRate = newValue } }
    }
    public var dropoutDraws: SeededGenerator? {
        get { terms.first?.network.dropoutDraws }
        set { for t in terms { t.network.dropoutDraws = newValue } }
    }

    public var namedVariables: [(name: String, variable: Variable)] {
        (motion?.namedVariables ?? []).map { ("motion.\($0.name)", $0.variable) }
            + terms.flatMap { term in term.network.namedVariables.map { ("term.\(term.name).\($0.name)", $0.variable) } }
            + coefficients.map { ("coefficient.\($0.name)", $0.value) }
    }

    /// The velocity (u, v), `[B, 1, H, W]` each in pixels per frame, from `[B, T_in, H, W]` frames.
    public func velocity(_ frames: Variable) throws -> (u: Variable, v: Variable) {
        guard let motion else { return try lucasKanadeVelocity(frames.value) }
        let raw = try motion(frames).tanh().scaled(by: config.maxSpeed)
        return (try raw.sliceChannels(0..<1), try raw.sliceChannels(1..<2))
    }

    /// Dense Lucas-Kanade of each sample's frames (needs two or more), clipped to `maxSpeed`: an
    /// input to the equation, not learned. The frames hold no missing values (the training set
    /// fills them); their smallest value stands for dry.
    private func lucasKanadeVelocity(_ frames: Tensor) throws -> (u: Variable, v: Variable) {
        let (b, t, h, w) = (frames.shape[0], frames.shape[1], frames.shape[2], frames.shape[3])
        guard t >= 2 else {
            throw ModelError.invalidSetting(key: "model.motion", expected: "two or more input frames for lucas-kanade", found: "\(t)")
        }
        let values = frames.scalars, plane = h * w
        var u = [Float](repeating: 0, count: b * plane), v = u
        let estimator = DenseLucasKanade()
        let limit = config.maxSpeed
        for sample in 0..<b {
            let sequence = (0..<t).map { k in Array(values[((sample * t + k) * plane)..<((sample * t + k + 1) * plane)]) }
            let field = try estimator.motion(sequence, ny: h, nx: w, missing: sequence.joined().min() ?? 0)
            for i in 0..<plane {
                u[sample * plane + i] = min(limit, max(-limit, field.u[i]))
                v[sample * plane + i] = min(limit, max(-limit, field.v[i]))
            }
        }
        return (Variable(try Tensor(shape: [b, 1, h, w], values: u)), Variable(try Tensor(shape: [b, 1, h, w], values: v)))
    }

    public func forecastSequence(_ inputs: Variable) throws -> Variable {
        let s = inputs.shape
        guard s.count == 5, s[1] == inputFrames, s[2] == 1 else {
            throw TensorError.invalidShape(operation: "HybridNowcaster", shape: s, expected: "[B, \(inputFrames), 1, H, W]")
        }
        let frames = try inputs.reshaped([s[0], s[1], s[3], s[4]])
        let (u, v) = try velocity(frames)
        var q = try frames.sliceChannels((inputFrames - 1)..<inputFrames)
        let coefficientValues = Dictionary(uniqueKeysWithValues: coefficients.map { ($0.name, $0.value) })
        // The semi-Lagrangian warp reads q at x - m(x), the value of no rain beyond the grid (the
        // inputs' smallest: the training set fills missing pixels with it).
        let backwards = config.advection == .semiLagrangian ? try Variable.concatChannels([u, v]).scaled(by: -1) : nil
        let dry = frames.value.scalars.min() ?? 0
        // ConvLSTM terms read the input frames first; each keeps its state from frame to frame.
        var recurrentStates: [String: RecurrentState] = [:]
        for term in terms {
            guard case .recurrent(let network) = term.network else { continue }
            var state = network.initialState(batch: s[0], height: s[3], width: s[4])
            for t in 0..<inputFrames { _ = try network.step(try frames.sliceChannels(t..<(t + 1)), &state) }
            recurrentStates[term.name] = RecurrentState(state)
        }
        var outputs: [Variable] = []
        for _ in 0..<outputFrames {
            if let backwards { q = try q.shifted(by: -dry).warped(by: backwards).shifted(by: dry) }
            // Each neural term runs on its first call of the frame (the first stage of the first
            // sub-step: the frame's starting state), its arguments as channels; later calls reuse it.
            var networks: [String: ([Variable]) throws -> Variable] = [:]
            for term in terms {
                let held = HeldTerm()
                let recurrent = recurrentStates[term.name]
                networks[term.name] = { arguments in
                    if let value = held.value { return value }
                    let value: Variable
                    switch term.network {
                    case .unet(let network): value = try network(arguments.count == 1 ? arguments[0] : Variable.concatChannels(arguments))
                    case .recurrent(let network):
                        guard let recurrent else { throw ModelError.invalidSetting(key: "model.term_network", expected: "a state for \(term.name)", found: "none") }
                        value = try network.step(arguments[0], &recurrent.state)
                    }
                    held.value = value
                    return value
                }
            }
            let bindings = EquationSystem.Bindings(fields: backwards == nil ? ["u": u, "v": v] : [:], coefficients: coefficientValues, networks: networks)
            q = try system.step([q], bindings, operators: operators, integrator: integrator, dt: 1)[0]
            outputs.append(q)
        }
        return try Variable.concatChannels(outputs).reshaped([s[0], outputFrames, 1, s[3], s[4]])
    }

    public func gridProblem(height: Int, width: Int) -> ModelError? {
        let unets = motion != nil || terms.contains { if case .unet = $0.network { return true } else { return false } }
        guard unets else { return nil }
        let scale = 1 << config.depth
        return height % scale == 0 && width % scale == 0 ? nil
            : .gridMismatch(height: height, width: width, detail: "a hybrid model's U-Nets of depth \(config.depth) need height and width divisible by \(scale)")
    }
}

/// A neural term's value for the frame being stepped.
private final class HeldTerm {
    var value: Variable?
}

/// A ConvLSTM term's state, carried from frame to frame.
private final class RecurrentState {
    var state: RecurrentNowcaster.State
    init(_ state: RecurrentNowcaster.State) { self.state = state }
}
