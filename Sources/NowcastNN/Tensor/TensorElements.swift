extension Tensor {
    /// The elements for writing: the storage made unique first (copied when shared) and its NHWC
    /// copy dropped, since the values are about to change.
    mutating func writableElements() -> UnsafeMutablePointer<Float> {
        makeUnique()
        let p = storage.pointer  // NCHW values made before the NHWC copy is dropped
        storage.channelsLast = nil
        return p
    }

    /// Opens several tensors at once for a kernel, in place of a pyramid of nested
    /// `withUnsafe…BufferPointer` closures: `body` gets the elements of `outputs` to write (as
    /// `writableElements`; a nil output, such as a gradient nobody wants, gives a nil pointer) and
    /// of `inputs` to read, in order. Every pointer is valid until `body` returns. (An optional
    /// input, such as a bias, opens with `withOptionalPointer`.)
    static func withElements<R>(writing outputs: inout [Tensor?], reading inputs: [Tensor] = [],
                                _ body: (_ outputs: [UnsafeMutablePointer<Float>?], _ inputs: [UnsafePointer<Float>]) throws -> R) rethrows -> R {
        var writable: [UnsafeMutablePointer<Float>?] = []
        for index in outputs.indices { writable.append(outputs[index]?.writableElements()) }
        let readable = inputs.map { UnsafePointer($0.storage.pointer) }
        defer { withExtendedLifetime(inputs) {} }
        return try body(writable, readable)
    }

    /// `withElements` for outputs that are all present.
    static func withElements<R>(writing outputs: inout [Tensor], reading inputs: [Tensor] = [],
                                _ body: (_ outputs: [UnsafeMutablePointer<Float>], _ inputs: [UnsafePointer<Float>]) throws -> R) rethrows -> R {
        var present: [Tensor?] = outputs
        outputs = []  // `present` must hold the only references, or writing would copy every storage
        defer { outputs = present.compactMap { $0 } }
        return try withElements(writing: &present, reading: inputs) { try body($0.compactMap { $0 }, $1) }
    }

    /// `withElements` for reading only.
    static func withElements<R>(reading inputs: [Tensor], _ body: (_ inputs: [UnsafePointer<Float>]) throws -> R) rethrows -> R {
        var none: [Tensor] = []
        return try withElements(writing: &none, reading: inputs) { try body($1) }
    }
}

extension Optional where Wrapped == Tensor {
    /// The elements' base address for reading when there is a tensor, nil otherwise.
    func withOptionalPointer<R>(_ body: (UnsafePointer<Float>?) throws -> R) rethrows -> R {
        guard let tensor = self else { return try body(nil) }
        return try tensor.withUnsafeBufferPointer { try body($0.baseAddress) }
    }
}
