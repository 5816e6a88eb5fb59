import Foundation
import XCTest

/// The built `nowcast` executable run as a user runs it (XCTest on Linux runs from the build
/// folder, which also holds the executable).
enum CLIProcess {
    static var executable: String { Bundle.main.bundleURL.appendingPathComponent("nowcast").path }

    /// Starts `nowcast arguments` (or another program given as `program`) without waiting, with
    /// `environment` added to the test's own.
    static func start(_ arguments: [String], program: String? = nil, environment extra: [String: String] = [:]) throws -> (Process, Pipe, Pipe) {
        guard FileManager.default.isExecutableFile(atPath: executable) else { throw XCTSkip("nowcast is not built at \(executable)") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program ?? executable)
        // Set as nowcast sets it for itself, which spares each run the re-execution that does so.
        var environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        if environment["GOMP_SPINCOUNT"] == nil { environment["GOMP_SPINCOUNT"] = "1000" }
        process.environment = environment
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        return (process, out, err)
    }

    /// Runs `nowcast arguments` (or `program arguments`) to the end.
    static func run(_ arguments: [String], program: String? = nil, environment: [String: String] = [:]) throws
        -> (status: Int32, output: String, error: String) {
        let (process, out, err) = try start(arguments, program: program, environment: environment)
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let error = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output, error)
    }
}
