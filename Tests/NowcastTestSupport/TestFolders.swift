import Foundation
import XCTest

/// A fresh temporary folder, removed when `test` ends.
public func temporaryFolder(_ test: XCTestCase, prefix: String = "nowcastkit") throws -> String {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url.path
}

/// Where the tests find the package's fixtures and the shared real data.
public enum TestPaths {
    /// The package root (the folder of Package.swift).
    public static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// `fixtures/` of the package, or one of its entries.
    public static func fixtures(_ entry: String = "") -> String {
        entry.isEmpty ? packageRoot.appendingPathComponent("fixtures").path : packageRoot.appendingPathComponent("fixtures/\(entry)").path
    }

    /// A sequence of the shared real data (`../shared/data/NAME`), or a skip where it is absent (CI has it).
    public static func sharedData(_ name: String) throws -> String {
        let folder = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data/\(name)").path
        guard FileManager.default.fileExists(atPath: folder) else {
            throw XCTSkip("real-data test skipped: \(folder) is absent (it is present in CI)")
        }
        return folder
    }

    /// The first field file of each shared real-data sequence, none where the data is absent.
    public static func firstRealFiles() -> [String] {
        let shared = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data").path
        let sequences = ((try? FileManager.default.contentsOfDirectory(atPath: shared)) ?? []).sorted()
        return sequences.compactMap { sequence in
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: shared + "/" + sequence)) ?? []).sorted()
            return names.first { ["nc", "h5", "hdf"].contains(($0 as NSString).pathExtension) }.map { shared + "/" + sequence + "/" + $0 }
        }
    }

    /// Sorted paths of the files in `folder` whose names end in `ext`.
    public static func files(in folder: String, extension ext: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(ext) }.sorted()
            .map { URL(fileURLWithPath: folder).appendingPathComponent($0).path }
    }
}
