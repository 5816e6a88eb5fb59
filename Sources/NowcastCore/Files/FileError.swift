import Foundation

/// A file operation the system refused: what was being done, on which path, and why. Its one-line
/// description is what a user reads ("no space left on device while writing X", "permission
/// denied: X", "X is a file, not a folder").
public enum FileError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// What was being done.
    public enum Operation: String, Sendable {
        case write = "writing", read = "reading", createFolder = "creating the folder", rename = "renaming", remove = "removing"
    }

    /// `operation` on `path` failed for `cause`.
    case failed(Operation, path: String, cause: FileFailure)

    /// A write failure of `path`.
    public static func write(_ path: String, _ cause: FileFailure) -> FileError { .failed(.write, path: path, cause: cause) }

    /// The failure's cause.
    public var cause: FileFailure {
        switch self { case let .failed(_, _, cause): return cause }
    }

    /// The path the failure names.
    public var path: String {
        switch self { case let .failed(_, path, _): return path }
    }

    public var description: String {
        switch self {
        case let .failed(operation, path, cause):
            switch cause {
            case .noSpace, .quotaExceeded, .inputOutput, .tooLarge:
                return "\(cause) while \(operation.rawValue) \(path)"
            case .permissionDenied, .readOnlyFileSystem:
                return "\(cause): \(path)"
            case .notFound:
                return "\(path): no such file or folder"
            case .notAFolder:
                return "\(Self.fileInTheWay(of: path) ?? path) is a file, not a folder"
            case .isAFolder:
                return "\(path) is a folder, not a file"
            case let .other(text):
                return "\(path): \(operation.rawValue) failed (\(text))"
            }
        }
    }

    public var errorDescription: String? { description }

    /// The first component of `path` that exists and is not a folder (what ENOTDIR is about).
    private static func fileInTheWay(of path: String) -> String? {
        var prefix = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            prefix = prefix.isEmpty ? "/\(part)" : "\(prefix)/\(part)"
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: prefix, isDirectory: &isFolder) else { return nil }
            if !isFolder.boolValue { return prefix.hasPrefix("./") ? String(prefix.dropFirst(2)) : prefix }
        }
        return nil
    }
}

extension FileError {
    /// Runs a Foundation file call and turns whatever it throws into a `FileError` on `path`.
    public static func wrapping<T>(_ operation: Operation, _ path: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as FileError { throw error } catch {
            throw FileError.failed(operation, path: path, cause: FileFailure(error))
        }
    }

    /// Creates a folder and its parents; an existing folder is fine, an existing file is an error.
    public static func createFolder(_ path: String) throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) {
            guard isFolder.boolValue else { throw FileError.failed(.createFolder, path: path, cause: .notAFolder) }
            return
        }
        try wrapping(.createFolder, path) { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
    }
}

extension FileError {
    /// Why writing at `path` fails, found by writing a block there and flushing it (the file is
    /// removed again); `reportingAs` is the path the error names. Nil when the write succeeds.
    /// For libraries that report a failed create without the system's reason.
    public static func probingWrite(at path: String, reportingAs name: String) -> FileError? {
        defer { unlink(path) }
        do {
            let file = try OutputFile(path, mode: .truncate)
            try file.write(Data(count: 4096))
            try file.synchronize()
            try file.close()
            return nil
        } catch let error as FileError {
            return FileError.write(name, error.cause)
        } catch {
            return FileError.write(name, FileFailure(error))
        }
    }
}
