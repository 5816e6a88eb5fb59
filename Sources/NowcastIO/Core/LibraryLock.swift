import Foundation

/// netCDF-C and serial HDF5 are not thread-safe, and netCDF-4 calls into HDF5: every call into
/// either library goes through this one recursive lock.
enum LibraryLock {
    private static let lock = NSRecursiveLock()

    static func run<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}
