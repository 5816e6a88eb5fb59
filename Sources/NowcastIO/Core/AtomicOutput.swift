import Foundation

/// A file written under a temporary name in its destination folder and renamed into place only when
/// complete, so that a killed process leaves either the old file or the new one, never half of one.
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
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw NowcastIOError.writeFailed(path: destination, detail: "folder \(folder) does not exist")
        }
        self.destination = destination
        let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        temporaryPath = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).partial-\(getpid())-\(suffix)").path
    }

    /// Moves the finished temporary file over the destination (atomic on one file system).
    public func commit() throws {
        guard !settled else { return }
        settled = true
        guard rename(temporaryPath, destination) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporaryPath)
            throw NowcastIOError.writeFailed(path: destination, detail: "rename: \(reason)")
        }
    }

    /// Removes the temporary file; the destination is untouched.
    public func discard() {
        guard !settled else { return }
        settled = true
        unlink(temporaryPath)
    }

    deinit { discard() }

    /// Writes a folder atomically: `fill` writes its contents into a hidden temporary folder beside
    /// `path`, which is then renamed into place (an older folder there is moved aside first and
    /// removed after). A failure leaves the older folder, if any, as it was.
    public static func writeFolder(_ path: String, _ fill: (_ temporaryFolder: String) throws -> Void) throws {
        let fm = FileManager.default
        let url = URL(fileURLWithPath: path)
        let parent = url.deletingLastPathComponent().path, name = url.lastPathComponent
        let temporary = (parent as NSString).appendingPathComponent(".\(name).partial-\(getpid())")
        let old = (parent as NSString).appendingPathComponent(".\(name).old-\(getpid())")
        try? fm.removeItem(atPath: temporary)
        try fm.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        do {
            try fill(temporary)
            if fm.fileExists(atPath: path) { try fm.moveItem(atPath: path, toPath: old) }
            guard rename(temporary, path) == 0 else {
                let reason = String(cString: strerror(errno))
                if fm.fileExists(atPath: old) { try? fm.moveItem(atPath: old, toPath: path) }
                throw NowcastIOError.writeFailed(path: path, detail: "rename: \(reason)")
            }
            try? fm.removeItem(atPath: old)
        } catch {
            try? fm.removeItem(atPath: temporary)
            throw error
        }
    }

    /// Writes `data` to `path` atomically (temporary file beside it, then rename).
    public static func write(_ data: Data, to path: String) throws {
        let output = try AtomicOutput(destination: path)
        do {
            try data.write(to: URL(fileURLWithPath: output.temporaryPath))
            try output.commit()
        } catch {
            output.discard()
            throw error
        }
    }
}
