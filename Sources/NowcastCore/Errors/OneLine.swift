/// An error's description on one line: what the command line prints and what wrapped errors quote.
public func oneLine(_ error: Error) -> String {
    String(describing: error).split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
}

import Foundation
