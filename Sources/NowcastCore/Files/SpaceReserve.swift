import Foundation

/// Disk space set aside beside an HDF5 or netCDF output while it is written, and given back just
/// before the file is closed. Closing flushes the libraries' caches; when that flush fails, HDF5
/// 1.10 leaves the file half torn down and the process crashes when HDF5 shuts down at exit
/// (`H5F__close_cb` from `H5_term_library`). Writers bound what a close has to write (a chunk cache
/// of `chunkCacheBytes` per dataset, and the metadata of a few variables), and the reserve holds
/// several times that, so a close has room even when the disk filled up during the writes. A disk
/// without room for the reserve fails at once, before any work.
public final class SpaceReserve {
    /// The chunk cache a writer gives each dataset: larger chunks are compressed and written at
    /// once, where a full disk shows at the write, not at the close.
    public static let chunkCacheBytes = 1 << 16
    /// The reserve's size, many times what a close after a full disk needs.
    public static let defaultBytes = 1 << 19

    /// The reserve file (hidden, `.partial-` in its name, so resuming commands clear it after a kill).
    public let path: String
    private var held = true

    /// Allocates `bytes` in a hidden file beside `destination`; throws `FileError` naming
    /// `destination` when the disk does not have them.
    public init(beside destination: String, bytes: Int = SpaceReserve.defaultBytes) throws {
        path = AtomicOutput.temporaryName(beside: destination, kind: "partial-reserve")
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw FileError.write(destination, FileFailure(errno: errno)) }
        defer { close(descriptor) }
        var status = posix_fallocate(descriptor, 0, off_t(bytes))
        if status == EOPNOTSUPP || status == EINVAL {
            // File systems without fallocate: write the bytes out.
            status = Self.writeZeros(descriptor, bytes)
        }
        guard status == 0 else {
            unlink(path)
            held = false
            throw FileError.write(destination, FileFailure(errno: status))
        }
    }

    private static func writeZeros(_ descriptor: Int32, _ bytes: Int) -> Int32 {
        let block = [UInt8](repeating: 0, count: 1 << 16)
        var left = bytes
        while left > 0 {
            let written = block.withUnsafeBytes { write(descriptor, $0.baseAddress, min(left, $0.count)) }
            if written < 0 {
                if errno == EINTR { continue }
                return errno
            }
            left -= written
        }
        return 0
    }

    /// Gives the space back (removes the file); idempotent.
    public func release() {
        guard held else { return }
        held = false
        unlink(path)
    }

    deinit { release() }
}
