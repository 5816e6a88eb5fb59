import CHDF5
import CNetCDF
import Foundation

/// netCDF-C and serial HDF5 are not thread-safe, and netCDF-4 calls into HDF5: every call into
/// either library goes through this one recursive lock. HDF5 keeps its error handler per thread:
/// on each thread's first call its printing is replaced by a recorder of the system errno behind a
/// failure (see `systemErrno`), once netCDF (which switches the handler off when it initialises)
/// has been initialised.
///
/// Before HDF5's first call, its clean-up at process exit is switched off (`H5dont_atexit`): every
/// file the toolkit writes is closed explicitly before it is called done, and HDF5's exit-time
/// clean-up of a file it failed to open or close (a damaged file, a full disk) crashed the process
/// or printed "infinite loop closing library" after the toolkit's own one-line error.
enum LibraryLock {
    private static let lock = NSRecursiveLock()
    private static let setUp: Void = {
        _ = H5dont_atexit()
        _ = nc_initialize()
    }()
    /// Set on a thread once its error recorder is in place.
    private static let threadKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()
    nonisolated(unsafe) private static let recordedErrno: UnsafeMutablePointer<Int32> = {
        let slot = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
        slot.pointee = 0
        return slot
    }()

    static func run<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        LibraryCrashGuard.enter()
        defer {
            LibraryCrashGuard.leave()
            lock.unlock()
        }
        _ = setUp
        if pthread_getspecific(threadKey) == nil {
            pthread_setspecific(threadKey, UnsafeRawPointer(bitPattern: 1))
            nk_H5_record_errors(recordedErrno)
            LibraryCrashGuard.prepareThread()
        }
        recordedErrno.pointee = 0
        return try body()
    }

    /// `run` for a call on the file at `path`, which a crash inside the library names.
    static func run<T>(on path: String, _ body: () throws -> T) rethrows -> T {
        try run {
            LibraryCrashGuard.record(path)
            return try body()
        }
    }

    /// The system errno (ENOSPC, EIO, ...) behind the HDF5 failure of the current `run`, or 0.
    /// Call it inside `run`, right after the failed call.
    static var systemErrno: Int32 {
        recordedErrno.pointee != 0 ? recordedErrno.pointee : nk_H5_stack_errno()
    }
}
