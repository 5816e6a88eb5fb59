import Foundation

/// Collects the first error thrown by concurrent work, for rethrowing once it has finished.
final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Error?

    /// Keeps `error` if it is the first one.
    func record(_ error: Error) {
        lock.lock()
        defer { lock.unlock() }
        if stored == nil { stored = error }
    }

    /// The first error recorded, if any.
    var first: Error? {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
}
