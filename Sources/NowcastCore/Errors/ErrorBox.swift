import Foundation

/// Collects the first error thrown by concurrent work, for rethrowing once it has finished.
public final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Error?

    public init() {}

    /// Keeps `error` if it is the first one.
    public func record(_ error: Error) {
        lock.lock()
        defer { lock.unlock() }
        if stored == nil { stored = error }
    }

    /// The first error recorded, if any.
    public var first: Error? {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
}
