import Foundation
import NowcastNN

/// A system of evolution equations written as text, `dt(q) = -(u*dx(q) + v*dy(q)) + k*lap(q) + S(q)`,
/// turned into a differentiable right-hand side. Names are the states (each `dt(NAME)`), input
/// fields, scalar coefficients (fixed or trainable: whatever `Variable` is bound to them) and neural
/// terms (called like functions, bound to any network). Operators: `dx dy dxx dyy dxy lap` of one
/// field, `div(a, b)`; functions `exp log sqrt abs relu tanh sigmoid`; `+ - * /` and `^` with a number
/// exponent. With `advection: .upwind`, a product `a * dx(q)` (or `dy`) takes the derivative upwind
/// by the sign of `a`, as an advection term needs. Every name and call is checked when the system
/// is made; shapes when it is evaluated. Errors give the line and column.
public struct EquationSystem: Sendable {
    /// How `a * dx(q)` products are differenced.
    public enum Advection: Sendable, Equatable {
        case centred
        /// One-sided by the sign of the factor, of order 1 or 2.
        case upwind(order: Int)
    }

    /// What the names are bound to when the system is evaluated.
    public struct Bindings {
        /// Input fields, `[N, C, H, W]` each.
        public var fields: [String: Variable]
        /// One-element values.
        public var coefficients: [String: Variable]
        /// Neural terms: the arguments' values in, a field out.
        public var networks: [String: ([Variable]) throws -> Variable]
        public init(fields: [String: Variable] = [:], coefficients: [String: Variable] = [:], networks: [String: ([Variable]) throws -> Variable] = [:]) {
            (self.fields, self.coefficients, self.networks) = (fields, coefficients, networks)
        }
    }

    public let text: String
    public let equations: [Equation]
    /// The states, in the order of their equations.
    public var states: [String] { equations.map(\.state) }
    public let inputs: [String], coefficients: [String], networks: [String]
    public let advection: Advection

    static let operators: [String: Int] = ["dx": 1, "dy": 1, "dxx": 1, "dyy": 1, "dxy": 1, "lap": 1, "div": 2]
    static let functions: Set<String> = ["exp", "log", "sqrt", "abs", "relu", "tanh", "sigmoid"]

    public init(_ text: String, inputs: [String] = [], coefficients: [String] = [], networks: [String] = [], advection: Advection = .centred) throws {
        let equations = try { var parser = EquationParser(text); return try parser.system() }()
        (self.text, self.equations, self.inputs, self.coefficients, self.networks, self.advection) = (text, equations, inputs, coefficients, networks, advection)
        func fail(_ message: String, _ at: Int) -> EquationError { EquationError(message, at: at, in: text) }
        if case .upwind(let order) = advection, order != 1 && order != 2 {
            throw fail("upwind advection of order \(order): expected 1 or 2", 0)
        }
        for (k, equation) in equations.enumerated() where equations[..<k].contains(where: { $0.state == equation.state }) {
            throw fail("dt(\(equation.state)) has two equations", equation.offset)
        }
        var declared: [String: String] = [:]
        for (kind, names) in [("state", equations.map(\.state)), ("input", inputs), ("coefficient", coefficients), ("neural term", networks)] {
            for name in Set(names).sorted() {
                let at = equations.first { $0.state == name }?.offset ?? 0
                if Self.operators[name] != nil || Self.functions.contains(name) || name == "dt" {
                    throw fail("'\(name)' is an operator or function and cannot name a \(kind)", at)
                }
                if let other = declared[name] { throw fail("'\(name)' is both a \(other) and a \(kind)", at) }
                declared[name] = kind
            }
        }
        let values = Set(equations.map(\.state) + inputs + coefficients)
        for equation in equations {
            for (name, at) in equation.rightHandSide.names where !values.contains(name) {
                if Self.operators[name] != nil || Self.functions.contains(name) || networks.contains(name) {
                    throw fail("'\(name)' is applied to fields: write \(name)(...)", at)
                }
                throw fail("unknown name '\(name)' (states: \(Self.list(equations.map(\.state))); inputs: \(Self.list(inputs)); "
                    + "coefficients: \(Self.list(coefficients)); neural terms: \(Self.list(networks)))", at)
            }
            for (name, count, at) in equation.rightHandSide.calls {
                if let arity = Self.operators[name] {
                    guard count == arity else { throw fail("\(name) takes \(arity) field\(arity == 1 ? "" : "s"), not \(count)", at) }
                } else if Self.functions.contains(name) {
                    guard count == 1 else { throw fail("\(name) takes one argument, not \(count)", at) }
                } else if networks.contains(name) {
                    guard count >= 1 else { throw fail("the neural term \(name) needs at least one field", at) }
                } else {
                    throw fail("unknown function '\(name)' (operators: dx dy dxx dyy dxy lap div; functions: exp log sqrt abs relu tanh sigmoid; "
                        + "neural terms: \(Self.list(networks)))", at)
                }
            }
            try Self.checkExponents(equation.rightHandSide, fail)
        }
    }

    /// The names `text` calls like functions that are neither operators nor functions (the neural
    /// terms it needs) with their number of arguments; a term called with two different counts is
    /// refused, and parse errors are `init`'s.
    public static func neuralTerms(in text: String) throws -> [String: Int] {
        var parser = EquationParser(text)
        var terms: [String: Int] = [:]
        for equation in try parser.system() {
            for (name, count, at) in equation.rightHandSide.calls where operators[name] == nil && !functions.contains(name) {
                if let earlier = terms[name], earlier != count {
                    throw EquationError("the neural term \(name) takes \(earlier) field\(earlier == 1 ? "" : "s") elsewhere, \(count) here", at: at, in: text)
                }
                terms[name] = count
            }
        }
        return terms
    }

    private static func list(_ names: [String]) -> String { names.isEmpty ? "none" : names.joined(separator: ", ") }

    private static func checkExponents(_ e: Expression, _ fail: (String, Int) -> EquationError) throws {
        switch e {
        case .number, .name: break
        case let .call(_, arguments, _): for a in arguments { try checkExponents(a, fail) }
        case let .negated(inner, _): try checkExponents(inner, fail)
        case let .binary(op, a, b, at):
            if op == "^" {
                switch b {
                case .number: break
                case .negated(.number, _): break
                default: throw fail("an exponent is a number (write exp(b * log(a)) for a field one)", at)
                }
            }
            try checkExponents(a, fail)
            try checkExponents(b, fail)
        }
    }

    /// dq/dt of every state, in order, for the states' values `state` (fields of one shape per
    /// state) and `bindings` for the rest, with `operators` for the derivatives.
    public func rightHandSides(_ state: [Variable], _ bindings: Bindings, operators: FiniteDifferences) throws -> [Variable] {
        guard state.count == equations.count else {
            throw EquationError("\(state.count) state fields given for \(equations.count) equations", at: 0, in: text)
        }
        var context = Evaluation(system: self, bindings: bindings, operators: operators)
        for (equation, value) in zip(equations, state) { context.bindings.fields[equation.state] = value }
        for name in inputs where bindings.fields[name] == nil { throw EquationError("the input field '\(name)' is not given", at: 0, in: text) }
        for name in coefficients where bindings.coefficients[name] == nil { throw EquationError("the coefficient '\(name)' is not given", at: 0, in: text) }
        for name in networks where bindings.networks[name] == nil { throw EquationError("the neural term '\(name)' is not given", at: 0, in: text) }
        return try zip(equations, state).map { equation, value in
            let result = try context.evaluate(equation.rightHandSide)
            switch result {
            case .constant(let c): return Variable(Tensor(shape: value.shape, repeating: c))
            case .scalar(let s): return try s.broadcast(to: value.shape)
            case .field(let f):
                guard f.shape == value.shape else {
                    throw EquationError("the right-hand side of dt(\(equation.state)) has shape \(f.shape), \(equation.state) has \(value.shape)", at: equation.offset, in: text)
                }
                return f
            }
        }
    }

    /// The states `dt` later by `integrator`. With `warn`, a Courant number of the input fields
    /// named `u` and `v` (the velocities by convention) above `TimeIntegrator.courantLimit` is said
    /// first, with the sub-steps that would bring it down.
    public func step(_ state: [Variable], _ bindings: Bindings, operators: FiniteDifferences, integrator: TimeIntegrator, dt: Float,
                     warn: ((String) -> Void)? = nil) throws -> [Variable] {
        if let warn {
            let courant = integrator.courantNumber(u: bindings.fields["u"]?.value, v: bindings.fields["v"]?.value, dt: dt, hx: operators.hx, hy: operators.hy)
            if courant > TimeIntegrator.courantLimit {
                let needed = Int((Float(integrator.substeps) * courant / TimeIntegrator.courantLimit).rounded(.up))
                warn(String(format: "Courant number %.2f above %.0f with %d sub-steps of dt %g: unstable for advection; %d sub-steps would hold it",
                            courant, TimeIntegrator.courantLimit, integrator.substeps, dt, needed))
            }
        }
        return try integrator.step(state, dt: dt) { try rightHandSides($0, bindings, operators: operators) }
    }
}

/// A value while evaluating: a number, a one-element variable, or a field.
private enum Term {
    case constant(Float)
    case scalar(Variable)
    case field(Variable)
}

private struct Evaluation {
    let system: EquationSystem
    var bindings: EquationSystem.Bindings
    let operators: FiniteDifferences

    func fail(_ message: String, _ at: Int) -> EquationError { EquationError(message, at: at, in: system.text) }

    func evaluate(_ e: Expression) throws -> Term {
        switch e {
        case let .number(value, _):
            return .constant(value)
        case let .name(name, at):
            if let field = bindings.fields[name] {
                guard field.shape.count == 4 else { throw fail("the field '\(name)' has shape \(field.shape); expected [N, C, H, W]", at) }
                return .field(field)
            }
            if let coefficient = bindings.coefficients[name] {
                guard coefficient.value.count == 1 else { throw fail("the coefficient '\(name)' has \(coefficient.value.count) values; expected one", at) }
                return .scalar(coefficient)
            }
            throw fail("'\(name)' is not given", at)
        case let .negated(inner, _):
            switch try evaluate(inner) {
            case .constant(let c): return .constant(-c)
            case .scalar(let s): return .scalar(s.scaled(by: -1))
            case .field(let f): return .field(f.scaled(by: -1))
            }
        case let .call(name, arguments, at):
            return try call(name, arguments, at)
        case let .binary(op, a, b, at):
            if op == "*", case .upwind(let order) = system.advection {
                if let term = try upwindProduct(a, b, order: order, at) ?? upwindProduct(b, a, order: order, at) { return term }
            }
            if op == "^", let exponent = Self.number(b) { return try power(try evaluate(a), exponent, at) }
            return try combine(op, try evaluate(a), try evaluate(b), at)
        }
    }

    private static func number(_ e: Expression) -> Float? {
        if case let .number(v, _) = e { return v }
        if case let .negated(.number(v, _), _) = e { return -v }
        return nil
    }

    /// `factor * dx(q)` upwinded by the factor's sign, when `derivative` is such a call and the factor a field.
    private func upwindProduct(_ factor: Expression, _ derivative: Expression, order: Int, _ at: Int) throws -> Term? {
        guard case let .call(name, arguments, _) = derivative, name == "dx" || name == "dy", arguments.count == 1,
              case .field(let velocity) = try evaluate(factor) else { return nil }
        guard case .field(let q) = try evaluate(arguments[0]) else { return .constant(0) }
        guard q.shape == velocity.shape else {
            throw fail("the terms either side of '*' have shapes \(velocity.shape) and \(q.shape)", at)
        }
        return .field(try velocity * operators.upwind(q, along: name == "dx" ? .x : .y, velocity: velocity, order: order))
    }

    private func call(_ name: String, _ arguments: [Expression], _ at: Int) throws -> Term {
        let values = try arguments.map { try evaluate($0) }
        if let network = bindings.networks[name] {
            let fields = try values.enumerated().map { k, v -> Variable in
                guard case .field(let f) = v else { throw fail("argument \(k + 1) of the neural term \(name) is a number; it takes fields", at) }
                return f
            }
            return .field(try network(fields))
        }
        if EquationSystem.operators[name] != nil {
            let fields = values.compactMap { v -> Variable? in if case .field(let f) = v { return f } else { return nil } }
            // The derivative of anything uniform is zero.
            guard fields.count == values.count else { return name == "div" && !fields.isEmpty ? try divergencePart(values) : .constant(0) }
            do {
                switch name {
                case "dx": return .field(try operators.dx(fields[0]))
                case "dy": return .field(try operators.dy(fields[0]))
                case "dxx": return .field(try operators.dxx(fields[0]))
                case "dyy": return .field(try operators.dyy(fields[0]))
                case "dxy": return .field(try operators.dxy(fields[0]))
                case "lap": return .field(try operators.laplacian(fields[0]))
                default:
                    guard fields[0].shape == fields[1].shape else { throw fail("div's fields have shapes \(fields[0].shape) and \(fields[1].shape)", at) }
                    return .field(try operators.divergence(u: fields[0], v: fields[1]))
                }
            } catch let error as TensorError {
                throw fail("\(name): \(error)", at)
            }
        }
        let value = values[0]
        func apply(_ f: (Variable) -> Variable, _ c: (Float) -> Float) -> Term {
            if case .constant(let x) = value { return .constant(c(x)) }
            return value.applying(f)
        }
        switch name {
        case "exp": return apply({ $0.exp() }, { Foundation.exp($0) })
        case "log": return apply({ $0.log() }, { Foundation.log($0) })
        case "sqrt": return apply({ $0.squareRoot() }, { $0.squareRoot() })
        case "abs": return apply({ $0.magnitude() }, { Swift.abs($0) })
        case "relu": return apply({ $0.relu() }, { Swift.max(0, $0) })
        case "tanh": return apply({ $0.tanh() }, { Foundation.tanh($0) })
        case "sigmoid": return apply({ $0.sigmoid() }, { 1 / (1 + Foundation.exp(-$0)) })
        default: throw fail("unknown function '\(name)'", at)
        }
    }

    /// div(a, b) with one of them uniform: the other's derivative only.
    private func divergencePart(_ values: [Term]) throws -> Term {
        if case .field(let a) = values[0] { return .field(try operators.dx(a)) }
        if case .field(let b) = values[1] { return .field(try operators.dy(b)) }
        return .constant(0)
    }

    private func power(_ base: Term, _ exponent: Float, _ at: Int) throws -> Term {
        if case .constant(let c) = base { return .constant(Foundation.pow(c, exponent)) }
        let whole = exponent.rounded() == exponent && Swift.abs(exponent) <= 16
        guard whole else {
            // a^p = exp(p log a), for positive a.
            return try combine("*", .constant(exponent), base.applying { $0.log() }, at).applying { $0.exp() }
        }
        let n = Int(Swift.abs(exponent))
        var result: Term = .constant(1)
        for _ in 0..<n { result = try combine("*", result, base, at) }
        return exponent < 0 ? try combine("/", .constant(1), result, at) : result
    }

    private func combine(_ op: Character, _ a: Term, _ b: Term, _ at: Int) throws -> Term {
        switch (a, b) {
        case let (.constant(x), .constant(y)):
            switch op { case "+": return .constant(x + y); case "-": return .constant(x - y); case "*": return .constant(x * y); default: return .constant(x / y) }
        case let (.field(f), .constant(c)):
            switch op { case "+": return .field(f.shifted(by: c)); case "-": return .field(f.shifted(by: -c)); case "*": return .field(f.scaled(by: c)); default: return .field(f.scaled(by: 1 / c)) }
        case let (.constant(c), .field(f)):
            switch op {
            case "+": return .field(f.shifted(by: c))
            case "-": return .field(f.scaled(by: -1).shifted(by: c))
            case "*": return .field(f.scaled(by: c))
            default: return .field(try Variable(Tensor(shape: f.shape, repeating: c)) / f)
            }
        default:
            let (x, y) = try aligned(a, b, op, at)
            switch op { case "+": return wrap(try x + y, a, b); case "-": return wrap(try x - y, a, b); case "*": return wrap(try x * y, a, b); default: return wrap(try x / y, a, b) }
        }
    }

    /// Both sides as variables of one shape: constants and one-element values spread over a field's shape.
    private func aligned(_ a: Term, _ b: Term, _ op: Character, _ at: Int) throws -> (Variable, Variable) {
        let shape: [Int]
        switch (a, b) {
        case let (.field(f), .field(g)):
            guard f.shape == g.shape else { throw fail("the terms either side of '\(op)' have shapes \(f.shape) and \(g.shape)", at) }
            return (f, g)
        case let (.field(f), _), let (_, .field(f)): shape = f.shape
        default: shape = [1]
        }
        func spread(_ t: Term) throws -> Variable {
            switch t {
            case .constant(let c): return Variable(Tensor(shape: shape, repeating: c))
            case .scalar(let s): return shape == [1] ? s : try s.broadcast(to: shape)
            case .field(let f): return f
            }
        }
        return (try spread(a), try spread(b))
    }

    private func wrap(_ v: Variable, _ a: Term, _ b: Term) -> Term {
        if case .field = a { return .field(v) }
        if case .field = b { return .field(v) }
        return .scalar(v)
    }
}

private extension Term {
    /// `f` of a variable term, a constant made a one-element variable first.
    func applying(_ f: (Variable) -> Variable) -> Term {
        switch self {
        case .constant(let c): return .scalar(f(Variable(Tensor(shape: [1], repeating: c))))
        case .scalar(let s): return .scalar(f(s))
        case .field(let v): return .field(f(v))
        }
    }
}
