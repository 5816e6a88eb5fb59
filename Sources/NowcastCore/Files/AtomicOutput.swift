import Foundation

/// A file written under a temporary name in its destination folder and renamed into place only when
/// complete, so that a killed process leaves either the old file or the new one, never half of one.
/// Temporary names contain `.partial-`, which the commands that resume clear away.
public final class AtomicOutput {
    /// Where the finished file will appear.
    public let destination: String
    /// The temporary path being written.
    public let temporaryPath: String
    private var settled = false

    /// Prepares a temporary path beside `destination`; throws if its folder does not exist.
    public init(destination: String) throws {
        let url = URL(fileURLWithPath: destination)
        let folder = url.deletingLastPathComponent().path
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) else {
            throw FileError.write(destination, .notFound)
        }
        guard isFolder.boolValue else { throw FileError.write(folder, .notAFolder) }
        self.destination = destination
        temporaryPath = Self.temporaryName(beside: destination, kind: "partial")
    }

    /// A hidden name beside `path` for a file of this process: `.NAME.KIND-PID-RANDOM`.
    public static func temporaryName(beside path: String, kind: String) -> String {
        let url = URL(fileURLWithPath: path)
        let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        return url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(kind)-\(getpid())-\(suffix)").path
    }

    /// Moves the finished temporary file over the destination (atomic on one file system).
    public func commit() throws {
        guard !settled else { return }
        settled = true
        guard rename(temporaryPath, destination) == 0 else {
            let cause = FileFailure(errno: errno)
            unlink(temporaryPath)
            throw FileError.failed(.rename, path: destination, cause: cause)
        }
    }

    /// Removes the temporary file; the destination is untouched.
    public func discard() {
        guard !settled else { return }
        settled = true
        unlink(temporaryPath)
    }

    deinit { discard() }

    /// Writes `data` to `path` atomically: a temporary file beside it, flushed to the device, then
    /// renamed. On failure the temporary file is removed and an older `path` is untouched.
    public static func write(_ data: Data, to path: String) throws {
        let output = try AtomicOutput(destination: path)
        do {
            let file = try OutputFile(output.temporaryPath)
            try file.write(data)
            try file.synchronize()
            try file.close()
            try output.commit()
        } catch let error as FileError {
            output.discard()
            // The temporary name means nothing to the user: the failure is of the destination.
            throw error.path == output.temporaryPath ? FileError.failed(.write, path: path, cause: error.cause) : error
        }
    }

    /// Writes a folder atomically: `fill` writes its contents into a hidden temporary folder beside
    /// `path`, which is then renamed into place (an older folder there is moved aside first and
    /// removed after). A failure removes the temporary folder and leaves the older folder as it was.
    public static func writeFolder(_ path: String, _ fill: (_ temporaryFolder: String) throws -> Void) throws {
        let fm = FileManager.default
        let url = URL(fileURLWithPath: path)
        let parent = url.deletingLastPathComponent().path, name = url.lastPathComponent
        let temporary = (parent as NSString).appendingPathComponent(".\(name).partial-\(getpid())")
        let old = (parent as NSString).appendingPathComponent(".\(name).old-\(getpid())")
        try? fm.removeItem(atPath: temporary)
        try FileError.wrapping(.createFolder, path) { try fm.createDirectory(atPath: temporary, withIntermediateDirectories: true) }
        do {
            try fill(temporary)
            if fm.fileExists(atPath: path) {
                try FileError.wrapping(.rename, path) { try fm.moveItem(atPath: path, toPath: old) }
            }
            guard rename(temporary, path) == 0 else {
                let cause = FileFailure(errno: errno)
                if fm.fileExists(atPath: old) { try? fm.moveItem(atPath: old, toPath: path) }
                throw FileError.failed(.rename, path: path, cause: cause)
            }
            try? fm.removeItem(atPath: old)
        } catch let error as FileError where error.path.hasPrefix(temporary + "/") {
            try? fm.removeItem(atPath: temporary)
            // Named as the file will be in the finished folder: the temporary name means nothing to the user.
            guard case let .failed(operation, inside, cause) = error else { throw error }
            throw FileError.failed(operation, path: path + inside.dropFirst(temporary.count), cause: cause)
        } catch {
            try? fm.removeItem(atPath: temporary)
            throw error
        }
    }
}
