import Foundation

/// Keeps freed tensor buffers of 64 KiB and more for reuse. A training step allocates the same large
/// tensors every step; from the system allocator, buffers above 32 MiB are fresh mappings each time,
/// and touching them costs a page fault per 4 KiB page (a large share of a ConvLSTM training step
/// at 128 x 128 went to faults and unmapping). Buffers are kept by size, up to a byte budget
/// (`NOWCAST_TENSOR_CACHE_MB`; by default a quarter of physical memory, at most 8 GiB; 0 turns the
/// cache off); beyond it they are freed. In a steady training loop the kept buffers are the ones the
/// next step takes again, so the cache adds little to the peak.
final class TensorBufferCache: @unchecked Sendable {
    static let shared = TensorBufferCache(budget: {
        let quarter = min(8 << 30, Int(ProcessInfo.processInfo.physicalMemory / 4))
        return EngineSetting.read("NOWCAST_TENSOR_CACHE_MB", expected: "a whole number of megabytes (0 turns the cache off)", default: quarter) {
            Int($0).flatMap { (0...(1 << 30)).contains($0) ? $0 << 20 : nil }
        }
    }())

    /// Buffers smaller than this go straight to the system allocator.
    static let smallest = 64 << 10

    private let budget: Int
    private let lock = NSLock()
    private var free: [Int: [UnsafeMutableRawPointer]] = [:]
    private(set) var cachedBytes = 0

    init(budget: Int) { self.budget = budget }

    /// Sizes are rounded up to whole pages so that near sizes share buffers.
    private static func rounded(_ bytes: Int) -> Int { bytes < smallest ? bytes : (bytes + 4095) & ~4095 }

    /// A 64-byte aligned buffer of at least `bytes` bytes.
    func allocate(bytes: Int) -> UnsafeMutableRawPointer {
        let size = Self.rounded(bytes)
        if size >= Self.smallest {
            lock.lock()
            if let pointer = free[size]?.popLast() {
                cachedBytes -= size
                lock.unlock()
                return pointer
            }
            lock.unlock()
        }
        return UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
    }

    /// Takes back a buffer `allocate(bytes:)` returned for the same `bytes`.
    func release(_ pointer: UnsafeMutableRawPointer, bytes: Int) {
        let size = Self.rounded(bytes)
        if size >= Self.smallest {
            lock.lock()
            if cachedBytes + size <= budget {
                free[size, default: []].append(pointer)
                cachedBytes += size
                lock.unlock()
                return
            }
            lock.unlock()
        }
        pointer.deallocate()
    }

    /// Frees every kept buffer.
    func trim() {
        lock.lock()
        defer { lock.unlock() }
        free.values.joined().forEach { $0.deallocate() }
        free = [:]
        cachedBytes = 0
    }
}
