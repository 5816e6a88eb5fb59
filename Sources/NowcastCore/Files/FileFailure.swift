import Foundation

/// Why the operating system (or a file library) refused a file operation, in words a user can act
/// on. Made from an `errno` value, or from whatever error Foundation threw.
public enum FileFailure: Equatable, Sendable, CustomStringConvertible {
    /// ENOSPC: the file system is full.
    case noSpace
    /// EDQUOT: the user's disk quota is used up.
    case quotaExceeded
    /// EACCES, EPERM: the permissions do not allow it.
    case permissionDenied
    /// EROFS: the file system is mounted read-only.
    case readOnlyFileSystem
    /// EIO: the device reported an error.
    case inputOutput
    /// ENOENT: the file or a folder on its path does not exist.
    case notFound
    /// ENOTDIR: a part of the path is a file where a folder is needed.
    case notAFolder
    /// EISDIR: the path is a folder where a file is needed.
    case isAFolder
    /// EFBIG: larger than the file system or the process allows.
    case tooLarge
    /// Anything else, in the system's or the library's words.
    case other(String)

    /// The failure an `errno` value stands for.
    public init(errno code: Int32) {
        switch code {
        case ENOSPC: self = .noSpace
        case EDQUOT: self = .quotaExceeded
        case EACCES, EPERM: self = .permissionDenied
        case EROFS: self = .readOnlyFileSystem
        case EIO: self = .inputOutput
        case ENOENT: self = .notFound
        case ENOTDIR: self = .notAFolder
        case EISDIR: self = .isAFolder
        case EFBIG: self = .tooLarge
        default: self = .other(String(cString: strerror(code)))
        }
    }

    /// The failure behind an error Foundation threw (a POSIX code, a Cocoa file error, or the
    /// underlying error of one); `.other` with the error's own text when none applies.
    public init(_ error: Error) {
        if let posix = error as? POSIXError { self.init(errno: posix.code.rawValue); return }
        let ns = error as NSError
        if ns.domain == NSPOSIXErrorDomain { self.init(errno: Int32(truncatingIfNeeded: ns.code)); return }
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? Error, let failure = Optional(FileFailure(underlying)),
           failure.isSpecific {
            self = failure
            return
        }
        if let cocoa = error as? CocoaError {
            switch cocoa.code {
            case .fileWriteOutOfSpace: self = .noSpace; return
            case .fileWriteNoPermission, .fileReadNoPermission: self = .permissionDenied; return
            case .fileWriteVolumeReadOnly: self = .readOnlyFileSystem; return
            case .fileNoSuchFile, .fileReadNoSuchFile: self = .notFound; return
            case .fileWriteFileExists: self = .other("a file of that name exists"); return
            default: break
            }
        }
        let text = ns.localizedDescription.split(whereSeparator: \.isNewline).joined(separator: " ")
        self = .other(text)
    }

    /// True for every case but `.other`.
    var isSpecific: Bool {
        if case .other = self { return false }
        return true
    }

    public var description: String {
        switch self {
        case .noSpace: return "no space left on device"
        case .quotaExceeded: return "disk quota exceeded"
        case .permissionDenied: return "permission denied"
        case .readOnlyFileSystem: return "read-only file system"
        case .inputOutput: return "input/output error"
        case .notFound: return "no such file or folder"
        case .notAFolder: return "not a folder"
        case .isAFolder: return "is a folder"
        case .tooLarge: return "file too large"
        case let .other(text): return text
        }
    }
}
