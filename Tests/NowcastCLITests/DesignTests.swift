import Foundation
import NowcastTestSupport
import XCTest

/// docs/DESIGN.md stays true: its target table names every target of Package.swift, each target
/// declares only what the table allows it, and every source file imports only what its target
/// declares (no target leans on another's dependencies).
final class DesignTests: XCTestCase {
    private struct Target {
        let name: String
        let kind: String
        let dependencies: Set<String>
        let path: String
    }

    /// Modules every target may import without declaring them.
    private let system: Set<String> = ["Foundation", "FoundationXML", "Glibc", "Darwin", "Dispatch", "Synchronization", "XCTest"]

    private func read(_ relative: String) throws -> String {
        try String(contentsOf: TestPaths.packageRoot.appendingPathComponent(relative), encoding: .utf8)
    }

    /// The targets of Package.swift with their declared dependencies (targets and products by name).
    private func packageTargets() throws -> [Target] {
        let text = try read("Package.swift")
        let declaration = try NSRegularExpression(pattern: #"\.(target|testTarget|executableTarget|systemLibrary)\(\s*name:\s*"([^"]+)""#)
        let matches = declaration.matches(in: text, range: NSRange(text.startIndex..., in: text))
        return try matches.enumerated().map { index, match in
            let kind = String(text[try XCTUnwrap(Range(match.range(at: 1), in: text))])
            let name = String(text[try XCTUnwrap(Range(match.range(at: 2), in: text))])
            let end = index + 1 < matches.count ? try XCTUnwrap(Range(matches[index + 1].range, in: text)).lowerBound : text.endIndex
            let body = text[try XCTUnwrap(Range(match.range, in: text)).upperBound..<end]
            var dependencies: Set<String> = []
            if let open = body.range(of: "dependencies: [") {
                // Up to the bracket that closes the list (products are `.product(name:package:)`, no brackets).
                let list = body[open.upperBound...].prefix { $0 != "]" }.replacingOccurrences(of: #"package:\s*"[^"]*""#, with: "",
                                                                                               options: .regularExpression)
                let quoted = try NSRegularExpression(pattern: #""([^"]+)""#)
                for item in quoted.matches(in: list, range: NSRange(list.startIndex..., in: list)) {
                    dependencies.insert(String(list[try XCTUnwrap(Range(item.range(at: 1), in: list))]))
                }
            }
            let path = body.range(of: #"path:\s*"([^"]+)""#, options: .regularExpression).map {
                String(body[$0]).components(separatedBy: "\"")[1]
            } ?? (kind == "testTarget" ? "Tests/\(name)" : "Sources/\(name)")
            return Target(name: name, kind: kind, dependencies: dependencies, path: path)
        }
    }

    /// The rows of DESIGN.md's target table: each target named in the first column, with the
    /// modules of the third ("every target above" allows every target of the rows before).
    private func designTable() throws -> [String: Set<String>] {
        let text = try read("docs/DESIGN.md")
        let ticked = try NSRegularExpression(pattern: "`([A-Za-z0-9]+)`")
        func names(_ cell: String) throws -> [String] {
            try ticked.matches(in: cell, range: NSRange(cell.startIndex..., in: cell)).map { String(cell[try XCTUnwrap(Range($0.range(at: 1), in: cell))]) }
        }
        var allowed: [String: Set<String>] = [:], earlier: [String] = []
        for line in text.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard cells.count >= 4 else { continue }
            let targets = try names(cells[1]), imports = try names(cells[3])
            let all = Set(imports).union(cells[3].contains("every target above") ? earlier : [])
            for target in targets { allowed[target] = all }
            earlier += targets
        }
        return allowed
    }

    func testTheDesignTableMatchesPackageSwift() throws {
        let targets = try packageTargets(), table = try designTable()
        XCTAssertGreaterThan(targets.count, 20, "Package.swift parsed")
        for target in targets where target.kind != "testTarget" {
            guard let allowed = table[target.name] else {
                XCTFail("\(target.name) of Package.swift has no row in docs/DESIGN.md's target table")
                continue
            }
            let extra = target.dependencies.subtracting(allowed)
            XCTAssertTrue(extra.isEmpty, "\(target.name) depends on \(extra.sorted()), which docs/DESIGN.md does not allow")
        }
        let declared = Set(targets.map(\.name))
        for name in table.keys { XCTAssertTrue(declared.contains(name), "docs/DESIGN.md names \(name), which Package.swift does not declare") }
    }

    func testEverySourceFileImportsOnlyWhatItsTargetDeclares() throws {
        let importLine = try NSRegularExpression(pattern: #"^(?:@testable\s+)?import\s+([A-Za-z0-9_]+)"#, options: .anchorsMatchLines)
        var checked = 0
        for target in try packageTargets() where target.kind != "systemLibrary" {
            let folder = TestPaths.packageRoot.appendingPathComponent(target.path)
            let files = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL }
                .filter { $0.pathExtension == "swift" } ?? []
            for file in files {
                let text = try String(contentsOf: file, encoding: .utf8)
                for match in importLine.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                    let module = String(text[try XCTUnwrap(Range(match.range(at: 1), in: text))])
                    guard !system.contains(module), module != target.name else { continue }
                    XCTAssertTrue(target.dependencies.contains(module),
                                  "\(file.path.replacingOccurrences(of: TestPaths.packageRoot.path + "/", with: "")) imports \(module), which \(target.name) does not declare in Package.swift")
                }
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 150, "source files read")
    }
}
