import Foundation
import NowcastIO
import XCTest

/// A fresh temporary folder, removed when the test ends.
func temporaryFolder(_ test: XCTestCase) throws -> String {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("nowcastkit-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url.path
}

/// The shared real-data folder (`../shared/data` from the package root), or a skip when absent.
func sharedData(_ name: String) throws -> String {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let folder = root.deletingLastPathComponent().appendingPathComponent("shared/data/\(name)").path
    guard FileManager.default.fileExists(atPath: folder) else {
        throw XCTSkip("real-data test skipped: \(folder) is absent (it is present in CI)")
    }
    return folder
}

/// Sorted paths of the files in a folder with the given extension.
func files(in folder: String, extension ext: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(ext) }.sorted()
        .map { URL(fileURLWithPath: folder).appendingPathComponent($0).path }
}

/// Asserts that `body` throws a `NowcastIOError` matching `matches`, and that its text names `mentions`.
func assertIOError<T>(_ body: @autoclosure () throws -> T, mentions: [String], file: StaticString = #filePath, line: UInt = #line,
                      _ matches: (NowcastIOError) -> Bool) {
    do {
        _ = try body()
        XCTFail("expected an error", file: file, line: line)
    } catch let error as NowcastIOError {
        XCTAssertTrue(matches(error), "unexpected error case: \(error)", file: file, line: line)
        let text = error.description
        XCTAssertFalse(text.contains("\n"), "error spans lines: \(text)", file: file, line: line)
        for word in mentions { XCTAssertTrue(text.contains(word), "'\(text)' does not mention '\(word)'", file: file, line: line) }
    } catch {
        XCTFail("expected a NowcastIOError, got \(type(of: error)): \(error)", file: file, line: line)
    }
}

/// Writes a small CF NetCDF file with one variable `field(dims)` of int16 values and the given attributes.
func writeCFFile(_ path: String, dims: [(String, Int)], values: [Int16], attributes: Attributes,
                 extra: (NetCDFWriter) throws -> Void = { _ in }, format: NetCDFWriter.Format = .netcdf4) throws {
    let writer = try NetCDFWriter(path: path, format: format)
    for (name, length) in dims { try writer.addDimension(name, length: length) }
    try writer.addVariable("field", type: .int16, dimensions: dims.map(\.0), attributes: attributes)
    try extra(writer)
    try writer.write("field", values)
    try writer.finish()
}

/// Adds a scalar `time` variable with CF units holding `value`.
func addScalarTime(_ writer: NetCDFWriter, units: String = "seconds since 1970-01-01 00:00:00", value: Double = 1_600_000_000,
                   calendar: String? = nil) throws {
    var attributes = Attributes([("standard_name", .text("time")), ("units", .text(units))])
    if let calendar { attributes["calendar"] = .text(calendar) }
    try writer.addVariable("time", type: .float64, dimensions: [], attributes: attributes)
    try writer.write("time", [value])
}
