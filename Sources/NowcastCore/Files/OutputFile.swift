import Foundation

/// A file written through POSIX calls, so that every failure carries the system's reason
/// (`FileError`): Foundation's writers report a full disk as a Cocoa error without the path.
public final class OutputFile {
    /// The file's path.
    public let path: String
    private var descriptor: Int32

    /// Opens `path` for writing: a new file (`exclusive`, failing if one exists), or truncating or
    /// appending to an existing one.
    public init(_ path: String, mode: Mode = .create) throws {
        self.path = path
        var flags = O_WRONLY | O_CREAT | O_CLOEXEC
        switch mode {
        case .create: flags |= O_EXCL
        case .truncate: flags |= O_TRUNC
        case .append: flags |= O_APPEND
        }
        descriptor = open(path, flags, 0o644)
        guard descriptor >= 0 else { throw FileError.write(path, FileFailure(errno: errno)) }
    }

    /// How `init` opens the file.
    public enum Mode: Sendable { case create, truncate, append }

    deinit { if descriptor >= 0 { Glibc.close(descriptor) } }

    /// Writes all of `bytes` (retrying short and interrupted writes).
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard var base = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let written = Glibc.write(descriptor, base, left)
            if written < 0 {
                if errno == EINTR { continue }
                throw FileError.write(path, FileFailure(errno: errno))
            }
            left -= written
            base += written
        }
    }

    /// Writes all of `data`.
    public func write(_ data: Data) throws {
        try data.withUnsafeBytes { try write($0) }
    }

    /// Flushes the file to the device (`fsync`): a delayed write error shows here.
    public func synchronize() throws {
        guard fsync(descriptor) == 0 || errno == EINVAL else { throw FileError.write(path, FileFailure(errno: errno)) }
    }

    /// Closes the file; a failure (a delayed write error) is reported.
    public func close() throws {
        guard descriptor >= 0 else { return }
        let status = Glibc.close(descriptor)
        descriptor = -1
        guard status == 0 else { throw FileError.write(path, FileFailure(errno: errno)) }
    }
}

#if canImport(Glibc)
import Glibc
#endif
