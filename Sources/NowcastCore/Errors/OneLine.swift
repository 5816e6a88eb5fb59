import Foundation

/// An error's description on one line: what the command line prints and what wrapped errors quote.
/// A Foundation file error that reached this far unwrapped is said in the project's words (its path
/// and cause, `FileFailure`'s), not as a Cocoa error dump.
public func oneLine(_ error: Error) -> String {
    let ns = error as NSError
    if ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain {
        let path = (ns.userInfo[NSFilePathErrorKey] as? String) ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path
        let cause = FileFailure(error)
        return path.map { "\($0): \(cause)" } ?? cause.description
    }
    return String(describing: error).split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
}
