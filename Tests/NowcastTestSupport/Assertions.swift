import Foundation
import XCTest

/// Asserts that `body` throws an error of type `E` for which `matches` holds, and that its text is
/// one line naming every word of `mentions`.
public func assertFails<T, E: Error>(_ body: @autoclosure () throws -> T, as errorType: E.Type, mentions: [String],
                                     file: StaticString = #filePath, line: UInt = #line, where matches: (E) -> Bool = { _ in true }) {
    do {
        _ = try body()
        XCTFail("expected an error", file: file, line: line)
    } catch let error as E {
        XCTAssertTrue(matches(error), "unexpected error: \(error)", file: file, line: line)
        let text = "\(error)"
        XCTAssertFalse(text.contains("\n"), "error spans lines: \(text)", file: file, line: line)
        for word in mentions { XCTAssertTrue(text.contains(word), "'\(text)' lacks '\(word)'", file: file, line: line) }
    } catch {
        XCTFail("expected a \(E.self), got \(type(of: error)): \(error)", file: file, line: line)
    }
}

/// Asserts that `body` throws, and that the error's text is one line naming every word of `mentions`.
public func assertFails<T>(_ body: @autoclosure () throws -> T, mentions: [String], file: StaticString = #filePath, line: UInt = #line) {
    assertFails(try body(), as: (any Error).self, mentions: mentions, file: file, line: line)
}
