/// An expression of an evolution equation, as parsed: each node keeps its offset in the text so that
/// errors found later (an unknown name, shapes that do not fit) can say where.
public indirect enum Expression: Sendable, Equatable {
    case number(Float, at: Int)
    case name(String, at: Int)
    /// A function or neural term applied to arguments: `dx(q)`, `div(u, v)`, `S(q, u)`.
    case call(String, [Expression], at: Int)
    case negated(Expression, at: Int)
    /// `+ - * /` or `^` (a number exponent).
    case binary(Character, Expression, Expression, at: Int)

    public var offset: Int {
        switch self {
        case let .number(_, at), let .name(_, at), let .call(_, _, at), let .negated(_, at), let .binary(_, _, _, at): return at
        }
    }

    /// Every name read as a value (not called), in order of appearance.
    var names: [(String, Int)] {
        switch self {
        case .number: return []
        case let .name(name, at): return [(name, at)]
        case let .call(_, arguments, _): return arguments.flatMap(\.names)
        case let .negated(e, _): return e.names
        case let .binary(_, a, b, _): return a.names + b.names
        }
    }

    /// Every call, in order of appearance.
    var calls: [(String, Int, Int)] {
        switch self {
        case .number, .name: return []
        case let .call(name, arguments, at): return [(name, arguments.count, at)] + arguments.flatMap(\.calls)
        case let .negated(e, _): return e.calls
        case let .binary(_, a, b, _): return a.calls + b.calls
        }
    }
}

/// One equation `dt(state) = expression`.
public struct Equation: Sendable, Equatable {
    public var state: String
    public var rightHandSide: Expression
    /// Offset of `dt` in the text.
    public var offset: Int
}

/// Reads a system of evolution equations, one per line or separated by `;`, each
/// `dt(NAME) = EXPRESSION` with numbers, names, `+ - * / ^` (`^` takes a number), parentheses and
/// calls `f(a, b)`; `#` starts a comment. Recursive descent, precedence as usual (`^` binds
/// tightest and to the right, unary minus below it).
struct EquationParser {
    private let source: String
    private let characters: [Character]
    private var position = 0

    init(_ source: String) { (self.source, characters) = (source, Array(source)) }

    mutating func system() throws -> [Equation] {
        var equations: [Equation] = []
        while true {
            skipBlanks(newlines: true)
            guard position < characters.count else { break }
            equations.append(try equation())
            skipBlanks(newlines: false)
            if position < characters.count {
                guard characters[position] == "\n" || characters[position] == ";" else {
                    throw error("expected the end of the equation (a new line or ';'), found '\(characters[position])'")
                }
                position += 1
            }
        }
        guard !equations.isEmpty else { throw EquationError("no equation: expected dt(NAME) = ...", at: 0, in: source) }
        return equations
    }

    private mutating func equation() throws -> Equation {
        let start = position
        guard identifier() == "dt" else { throw EquationError("an equation starts with dt(NAME) =", at: start, in: source) }
        try expect("(")
        guard let state = identifier() else { throw error("expected the name of the field dt( ) differentiates") }
        try expect(")")
        try expect("=")
        return Equation(state: state, rightHandSide: try sum(), offset: start)
    }

    private mutating func sum() throws -> Expression { try chain(of: "+-") { try $0.product() } }

    private mutating func product() throws -> Expression { try chain(of: "*/") { try $0.unary() } }

    /// Operands joined by the operators `ops`, left to right.
    private mutating func chain(of ops: String, _ operand: (inout EquationParser) throws -> Expression) throws -> Expression {
        var left = try operand(&self)
        while let op = peek(), ops.contains(op) {
            let at = position
            position += 1
            left = .binary(op, left, try operand(&self), at: at)
        }
        return left
    }

    private mutating func unary() throws -> Expression {
        if let op = peek(), op == "-" || op == "+" {
            let at = position
            position += 1
            let operand = try unary()
            return op == "-" ? .negated(operand, at: at) : operand
        }
        return try power()
    }

    private mutating func power() throws -> Expression {
        let base = try primary()
        if peek() == "^" {
            let at = position
            position += 1
            return .binary("^", base, try unary(), at: at)
        }
        return base
    }

    private mutating func primary() throws -> Expression {
        skipBlanks(newlines: false)
        let at = position
        guard position < characters.count else { throw error("the expression ends early: expected a number, a name or '('") }
        let c = characters[position]
        if c == "(" {
            position += 1
            let inner = try sum()
            guard peek() == ")" else { throw EquationError("unbalanced parentheses: '(' here is not closed", at: at, in: source) }
            position += 1
            return inner
        }
        if c.isNumber || c == "." { return .number(try number(), at: at) }
        guard let name = identifier() else {
            throw error(c == ")" ? "unbalanced parentheses: ')' without its '('" : "expected a number, a name or '(', found '\(c)'")
        }
        guard peek() == "(" else { return .name(name, at: at) }
        position += 1
        var arguments: [Expression] = []
        if peek() == ")" {
            position += 1
        } else {
            while true {
                arguments.append(try sum())
                if peek() == "," { position += 1; continue }
                guard peek() == ")" else { throw EquationError("unbalanced parentheses: the call \(name)( here is not closed", at: at, in: source) }
                position += 1
                break
            }
        }
        return .call(name, arguments, at: at)
    }

    private mutating func number() throws -> Float {
        let start = position
        while position < characters.count, characters[position].isNumber || characters[position] == "." { position += 1 }
        if position < characters.count, characters[position] == "e" || characters[position] == "E" {
            var look = position + 1
            if look < characters.count, characters[look] == "-" || characters[look] == "+" { look += 1 }
            if look < characters.count, characters[look].isNumber {
                position = look
                while position < characters.count, characters[position].isNumber { position += 1 }
            }
        }
        let text = String(characters[start..<position])
        guard let value = Float(text), value.isFinite else { throw EquationError("'\(text)' is not a number", at: start, in: source) }
        return value
    }

    /// A name: a letter or `_`, then letters, digits or `_`.
    private mutating func identifier() -> String? {
        skipBlanks(newlines: false)
        guard position < characters.count, characters[position].isLetter || characters[position] == "_" else { return nil }
        let start = position
        while position < characters.count, characters[position].isLetter || characters[position].isNumber || characters[position] == "_" { position += 1 }
        return String(characters[start..<position])
    }

    private mutating func expect(_ c: Character) throws {
        guard peek() == c else {
            throw error("expected '\(c)'" + (position < characters.count ? ", found '\(characters[position])'" : " before the end"))
        }
        position += 1
    }

    /// The next character after blanks (not newlines), not consumed.
    private mutating func peek() -> Character? {
        skipBlanks(newlines: false)
        return position < characters.count ? characters[position] : nil
    }

    private mutating func skipBlanks(newlines: Bool) {
        while position < characters.count {
            let c = characters[position]
            if c == "#" {
                while position < characters.count, characters[position] != "\n" { position += 1 }
            } else if c == " " || c == "\t" || c == "\r" || (newlines && (c == "\n" || c == ";")) {
                position += 1
            } else {
                break
            }
        }
    }

    private func error(_ message: String) -> EquationError { EquationError(message, at: position, in: source) }
}
