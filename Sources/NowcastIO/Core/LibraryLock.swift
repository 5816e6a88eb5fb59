import CHDF5
import Foundation

/// netCDF-C and serial HDF5 are not thread-safe, and netCDF-4 calls into HDF5: every call into
/// either library goes through this one recursive lock. On entry HDF5's error printing is replaced
/// by a recorder of the system errno behind a failure (see `systemErrno`).
enum LibraryLock {
    private static let lock = NSRecursiveLock()
    nonisolated(unsafe) private static let recordedErrno: UnsafeMutablePointer<Int32> = {
        let slot = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
        slot.pointee = 0
        return slot
    }()

    static func run<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        // netCDF switches HDF5's error handler off when it initialises: set again on every entry.
        nk_H5_record_errors(recordedErrno)
        recordedErrno.pointee = 0
        return try body()
    }

    /// The system errno (ENOSPC, EIO, ...) behind the HDF5 failure of the current `run`, or 0.
    /// Call it inside `run`, right after the failed call.
    static var systemErrno: Int32 {
        recordedErrno.pointee != 0 ? recordedErrno.pointee : nk_H5_stack_errno()
    }
}

/// Whether the libraries hold a file they could not close. HDF5 1.10 leaves a file whose close
/// failed half torn down, and its shutdown at process exit (`H5_term_library`) then crashes on it.
/// The writers give back their `SpaceReserve` before closing, so this happens only when the device
/// itself fails (an I/O error, a file system remounted read-only); the command line then leaves
/// without HDF5's shutdown (`_exit`), as there is nothing left for it to flush that will be kept.
public enum LibraryHealth {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var failedCloses = 0

    /// True once a file could not be closed.
    public static var holdsUnclosedFile: Bool {
        lock.lock()
        defer { lock.unlock() }
        return failedCloses > 0
    }

    /// Records the outcome of a close that had to be retried: `failed` when it did not succeed.
    static func recordFailedClose(_ failed: Bool) {
        guard failed else { return }
        lock.lock()
        failedCloses += 1
        lock.unlock()
    }
}
