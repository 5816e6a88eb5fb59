import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// HDF5 1.10 crashes on some damaged files where it should fail (a segmentation fault in its
/// metadata cache, a stack overflow, a heap it corrupted so that glibc aborts): one flipped byte in
/// an object header is enough. No check before the call can rule
/// that out, so the command line installs this guard: a fault on a thread inside a library call
/// (under `LibraryLock`) ends the process with one line naming the file being read and exit status
/// 1; a fault anywhere else goes on to the handler that was there before (Swift's crash report).
/// The handler uses only async-signal-safe calls on buffers prepared by `install`, and runs on a
/// stack of its own (each thread gets one on its first library call): the faults seen include
/// stack overflows in HDF5's recursion over a damaged group structure.
public enum LibraryCrashGuard {
    private static let pathCapacity = 4096
    nonisolated(unsafe) private static let path: UnsafeMutablePointer<CChar> = {
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: pathCapacity)
        buffer.initialize(repeating: 0, count: pathCapacity)
        return buffer
    }()
    /// The thread inside a library call and how deep (the lock is recursive), or 0.
    nonisolated(unsafe) private static let owner: UnsafeMutablePointer<pthread_t> = {
        let slot = UnsafeMutablePointer<pthread_t>.allocate(capacity: 1)
        slot.pointee = 0
        return slot
    }()
    nonisolated(unsafe) private static let depth: UnsafeMutablePointer<Int> = {
        let slot = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        slot.pointee = 0
        return slot
    }()
    nonisolated(unsafe) private static var prefix: UnsafeMutablePointer<CChar>?
    nonisolated(unsafe) private static var suffix: UnsafeMutablePointer<CChar>?
    nonisolated(unsafe) private static var previous: [Int32: sigaction] = [:]

    /// Installs the guard for SIGSEGV, SIGBUS and SIGABRT (glibc aborts on the heap HDF5 damaged);
    /// a crash inside a library call prints
    /// `<prefix><file>: <what went wrong>` on standard error. Call once, before any library call.
    public static func install(prefix text: String) {
        prefix = strdup(text)
        suffix = strdup(": the HDF5/netCDF library crashed reading this file; it is damaged (or holds what the library cannot read)\n")
        _ = (path, owner, depth)
        installed.pointee = true
        giveThreadASignalStack()
        for signal in [SIGSEGV, SIGBUS, SIGABRT] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = handle
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_ONSTACK
            var old = sigaction()
            sigaction(signal, &action, &old)
            previous[signal] = old
        }
    }

    private static let handle: @convention(c) (Int32) -> Void = { signal in
        if LibraryCrashGuard.depth.pointee > 0, pthread_equal(LibraryCrashGuard.owner.pointee, pthread_self()) != 0,
           let prefix = LibraryCrashGuard.prefix, let suffix = LibraryCrashGuard.suffix {
            _ = write(2, prefix, strlen(prefix))
            _ = write(2, LibraryCrashGuard.path, strlen(LibraryCrashGuard.path))
            _ = write(2, suffix, strlen(suffix))
            _exit(1)
        }
        // Not a library call: the previous handler takes the fault when it repeats.
        if var old = LibraryCrashGuard.previous[signal] { sigaction(signal, &old, nil) } else { Glibc.signal(signal, SIG_DFL) }
    }

    nonisolated(unsafe) private static let installed: UnsafeMutablePointer<Bool> = {
        let slot = UnsafeMutablePointer<Bool>.allocate(capacity: 1)
        slot.pointee = false
        return slot
    }()
    /// Gives the calling thread a stack for the handler, once the guard is installed; `LibraryLock`
    /// calls it on each thread's first library call (the stacks are never freed: threads are pooled).
    static func prepareThread() {
        if installed.pointee { giveThreadASignalStack() }
    }

    private static func giveThreadASignalStack() {
        var current = stack_t()
        sigaltstack(nil, &current)
        guard current.ss_flags & Int32(SS_DISABLE) != 0 else { return }  // it has one (Swift's runtime gives the main thread one)
        let size = 1 << 16
        var stack = stack_t()
        stack.ss_sp = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        stack.ss_size = size
        stack.ss_flags = 0
        sigaltstack(&stack, nil)
    }

    /// Called by `LibraryLock` once it holds the lock.
    static func enter() {
        if depth.pointee == 0 { owner.pointee = pthread_self() }
        depth.pointee += 1
    }

    /// Called by `LibraryLock` before it lets the lock go.
    static func leave() {
        depth.pointee -= 1
        if depth.pointee == 0 { owner.pointee = 0 }
    }

    /// Notes the file the current library call reads (under the lock).
    static func record(_ file: String) {
        _ = file.withCString { strncpy(path, $0, pathCapacity - 1) }
    }
}
