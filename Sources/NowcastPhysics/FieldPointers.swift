/// Opens several fields for reading at once (instead of a pyramid of nested
/// `withUnsafeBufferPointer` calls): `body` gets one base address per field, in order. Fields must
/// not be empty.
public func withFieldPointers<R>(_ fields: [[Float]], _ body: ([UnsafePointer<Float>]) throws -> R) rethrows -> R {
    func open(_ index: Int, _ opened: [UnsafePointer<Float>]) throws -> R {
        guard index < fields.count else { return try body(opened) }
        return try fields[index].withUnsafeBufferPointer { try open(index + 1, opened + [$0.baseAddress!]) }
    }
    return try open(0, [])
}
