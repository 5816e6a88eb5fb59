import Foundation
import Synchronization

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
///
/// A convolution through oneDNN leaves its output in channels-last (NHWC) order. When the next reader
/// is another oneDNN convolution (or a layer that works in NHWC), the NCHW values are never needed,
/// so such a storage starts with its values in `channelsLast` only (`awaitingPlain`) and no NCHW
/// memory; the first access to `pointer` allocates it and reorders the values into it.
final class TensorStorage {
    /// The NCHW elements; nil until made where the values start in NHWC only.
    private var base: UnsafeMutablePointer<Float>?
    let count: Int
    /// The same values in channels-last (NHWC) order for the shape given, left by a convolution that
    /// needed them; cleared by any write.
    var channelsLast: (shape: [Int], storage: TensorStorage)?
    /// True while the values are in `channelsLast` only. Set once at creation, cleared once (under
    /// `plainLock`, after `base` is made): readers on any thread see `base` once they see it false.
    private let awaitingPlain = Atomic<Bool>(false)
    private static let plainLock = NSLock()

    init(count: Int) {
        self.count = count
        base = Self.allocate(count)
    }

    /// A storage whose values are `channelsLast` (NHWC, for NCHW `shape`), reordered into NCHW order on
    /// first access.
    init(shape: [Int], channelsLast: TensorStorage) {
        count = channelsLast.count
        self.channelsLast = (shape, channelsLast)
        awaitingPlain.store(true, ordering: .releasing)
    }

    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        TensorBufferCache.shared.allocate(bytes: max(1, count) * MemoryLayout<Float>.stride).bindMemory(to: Float.self, capacity: max(1, count))
    }

    /// The elements in NCHW order (made from the NHWC copy on first access where they are pending).
    var pointer: UnsafeMutablePointer<Float> {
        if !awaitingPlain.load(ordering: .acquiring), let base { return base }
        return materialize()
    }

    /// True while the NCHW values are still to be made from the NHWC copy.
    var isAwaitingPlain: Bool { awaitingPlain.load(ordering: .acquiring) }

    private func materialize() -> UnsafeMutablePointer<Float> {
        Self.plainLock.lock()
        defer { Self.plainLock.unlock() }
        if !awaitingPlain.load(ordering: .acquiring), let base { return base }
        let made = Self.allocate(count)
        if let (shape, copy) = channelsLast {
            ChannelsLast.toPlain(shape: shape, from: copy.pointer, to: made)
        } else {
            made.initialize(repeating: .nan, count: count)  // not reached: the copy is only dropped after this
        }
        base = made
        awaitingPlain.store(false, ordering: .releasing)
        return made
    }

    func copy() -> TensorStorage {
        let other = TensorStorage(count: count)
        other.pointer.update(from: pointer, count: count)
        return other
    }

    deinit {
        if let base { TensorBufferCache.shared.release(UnsafeMutableRawPointer(base), bytes: max(1, count) * MemoryLayout<Float>.stride) }
    }
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
        set { writableElements()[i] = newValue }
    }

    /// Reads the elements.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: count))
    }

    /// Writes the elements (copying first if the memory is shared).
    public mutating func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        let p = writableElements()
        return try body(UnsafeMutableBufferPointer(start: p, count: count))
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

    /// A tensor of NCHW `shape` whose values are `copy` in NHWC order; NCHW values are made on first read.
    init(shape: [Int], channelsLast copy: TensorStorage) {
        self.init(shape: shape, storage: TensorStorage(shape: shape, channelsLast: copy))
    }

    /// The NHWC copy when the NCHW values have not been made yet: a convolution reading this tensor
    /// should take the copy (reading `storage.pointer` would reorder).
    var pendingChannelsLast: TensorStorage? { storage.isAwaitingPlain ? channelsLastCopy : nil }

    mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    public var description: String {
        "Tensor\(shape)" + (count <= 8 ? " \(scalars)" : "")
    }
}
