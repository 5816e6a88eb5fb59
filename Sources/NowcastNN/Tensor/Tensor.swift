import Foundation

/// Why a tensor operation cannot run: the shapes involved and what was expected.
public enum TensorError: Error, Equatable, CustomStringConvertible {
    /// Two operands whose shapes do not fit together.
    case shapeMismatch(operation: String, left: [Int], right: [Int])
    /// A shape that is invalid for the operation.
    case invalidShape(operation: String, shape: [Int], expected: String)

    public var description: String {
        switch self {
        case let .shapeMismatch(operation, left, right): return "\(operation): shapes \(left) and \(right) do not fit"
        case let .invalidShape(operation, shape, expected): return "\(operation): shape \(shape); expected \(expected)"
        }
    }
}

/// Contiguous Float32 memory, 64-byte aligned (AVX-512 lines), shared by tensors until written.
/// Large buffers come from and go back to `TensorBufferCache`.
final class TensorStorage {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int
    /// The same values in channels-last (NHWC) order for the shape given, left by a convolution that
    /// needed them; cleared by any write.
    var channelsLast: (shape: [Int], storage: TensorStorage)?

    init(count: Int) {
        self.count = count
        let raw = TensorBufferCache.shared.allocate(bytes: max(1, count) * MemoryLayout<Float>.stride)
        pointer = raw.bindMemory(to: Float.self, capacity: max(1, count))
    }

    func copy() -> TensorStorage {
        let other = TensorStorage(count: count)
        other.pointer.update(from: pointer, count: count)
        return other
    }

    deinit { TensorBufferCache.shared.release(UnsafeMutableRawPointer(pointer), bytes: max(1, count) * MemoryLayout<Float>.stride) }
}

/// An n-dimensional array of Float32, contiguous and row-major (NCHW for images). A value type:
/// copies share memory until one of them is written (copy on write).
public struct Tensor: CustomStringConvertible {
    /// Dimension lengths, slowest varying first.
    public let shape: [Int]
    var storage: TensorStorage

    /// A tensor of `shape` filled with `value`.
    public init(shape: [Int], repeating value: Float = 0) {
        self.shape = shape
        storage = TensorStorage(count: shape.reduce(1, *))
        storage.pointer.initialize(repeating: value, count: storage.count)
    }

    /// A tensor of `shape` holding `values` (row-major); throws when the counts differ.
    public init(shape: [Int], values: [Float]) throws {
        guard shape.reduce(1, *) == values.count, shape.allSatisfy({ $0 >= 0 }) else {
            throw TensorError.invalidShape(operation: "Tensor(shape:values:)", shape: shape, expected: "\(values.count) elements")
        }
        self.shape = shape
        storage = TensorStorage(count: values.count)
        values.withUnsafeBufferPointer { storage.pointer.initialize(from: $0.baseAddress!, count: values.count) }
    }

    /// A scalar tensor (shape `[]`).
    public init(scalar: Float) {
        self.init(shape: [], repeating: scalar)
    }

    /// A tensor of `shape` whose elements the caller writes before reading (no fill pass).
    init(uninitializedShape shape: [Int]) {
        self.shape = shape
        storage = TensorStorage(count: shape.reduce(1, *))
    }

    init(shape: [Int], storage: TensorStorage) {
        self.shape = shape
        self.storage = storage
    }

    /// Number of elements.
    public var count: Int { storage.count }
    /// The elements, row-major.
    public var scalars: [Float] { Array(UnsafeBufferPointer(start: storage.pointer, count: count)) }
    /// The only element of a one-element tensor.
    public var scalar: Float? { count == 1 ? storage.pointer[0] : nil }

    /// Element at flat index `i`.
    public subscript(i: Int) -> Float {
        get { storage.pointer[i] }
        set { makeUnique(); storage.channelsLast = nil; storage.pointer[i] = newValue }
    }

    /// Reads the elements.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: count))
    }

    /// Writes the elements (copying first if the memory is shared).
    public mutating func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        makeUnique()
        storage.channelsLast = nil
        return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: count))
    }

    /// The same elements under another shape with the same count.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        guard newShape.reduce(1, *) == count else {
            throw TensorError.shapeMismatch(operation: "reshape", left: shape, right: newShape)
        }
        return Tensor(shape: newShape, storage: storage)
    }

    /// The values in NHWC order when a convolution left them for this shape.
    var channelsLastCopy: TensorStorage? {
        guard let copy = storage.channelsLast, copy.shape == shape else { return nil }
        return copy.storage
    }

    /// Keeps `copy` (these values in NHWC order) with the storage until the next write.
    func attachChannelsLast(_ copy: TensorStorage) { storage.channelsLast = (shape, copy) }

    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    public var description: String {
        "Tensor\(shape)" + (count <= 8 ? " \(scalars)" : "")
    }
}
