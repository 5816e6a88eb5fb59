import CHDF5
import Foundation

/// netCDF-C and serial HDF5 are not thread-safe, and netCDF-4 calls into HDF5: every call into
/// either library goes through this one recursive lock. HDF5 keeps its "print errors" setting per
/// thread, so each thread is silenced on its first call (the toolkit reports errors itself).
enum LibraryLock {
    private static let lock = NSRecursiveLock()
    private static let silencedKey = "nowcastkit.hdf5.silenced"

    static func run<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        let thread = Thread.current
        if thread.threadDictionary[silencedKey] == nil {
            nk_H5_silence_errors()
            thread.threadDictionary[silencedKey] = true
        }
        return try body()
    }
}
