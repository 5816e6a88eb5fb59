import Foundation
import XCTest

/// The Python the interoperability tests hand our files to: `python3` on PATH, which `tools/test`
/// makes the project's environment (`.venv`). A test whose modules are missing is skipped, saying so
/// (which happens only when `swift test` runs alone).
public enum Python {
    /// Skips the calling test unless `python3` imports every module.
    public static func require(_ modules: [String]) throws {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import " + modules.joined(separator: ", ")]
        probe.standardError = FileHandle.nullDevice
        try? probe.run()
        probe.waitUntilExit()
        guard probe.terminationStatus == 0 else {
            throw XCTSkip("python3 lacks \(modules.joined(separator: ", ")); ./tools/test installs them in .venv")
        }
    }

    /// Runs `script` with `python3`; its exit status and standard output.
    public static func run(_ script: String) throws -> (status: Int32, output: String) {
        try tool(["python3", "-c", script])
    }

    /// Runs a command of the environment (`cfchecks FILE`, say); its exit status and standard output.
    public static func tool(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = arguments
        let pipe = Pipe()
        python.standardOutput = pipe
        try python.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        python.waitUntilExit()
        return (python.terminationStatus, output)
    }
}
