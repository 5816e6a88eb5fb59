import Foundation
#if canImport(Glibc)
import Glibc
#endif
import XCTest
import NowcastTestSupport

/// `nowcast train` as a user runs it: a SIGKILL in the middle and `--resume`, bad configs, and a
/// store larger than the memory the run may use.
final class TrainCommandTests: XCTestCase {
    private func folder() throws -> String { try temporaryFolder(self, prefix: "nowcast-train") }

    /// A store of 3 + 2 frames of 24 x 24 from a generated archive.
    private func smallStore(_ dir: String) throws -> String {
        XCTAssertEqual(try CLIProcess.run(["synth", "-o", dir + "/archive", "--frames", "40", "--size", "48,48", "--step", "10", "--no-coverage-mask"]).status, 0)
        let converted = try CLIProcess.run(["convert", "--input", dir + "/archive", "--transform", "dbr:0.1:-15", "--transform", "zscore",
                                            "--t-in", "3", "--t-out", "2", "--patch-size", "24", "--block-hours", "1", "--validation", "0.3",
                                            "--test", "0", "--split-seed", "2", "-o", dir + "/store"])
        XCTAssertEqual(converted.status, 0, converted.error)
        return dir + "/store"
    }

    func testKilledTrainingResumesToBitIdenticalWeights() throws {
        let dir = try folder()
        let store = try smallStore(dir)
        let common = ["train", "--store", store, "--model", "convlstm", "--hidden", "4", "--steps", "40", "--batch-size", "4",
                      "--checkpoint-every", "10", "--validate-every", "20", "--learning-rate", "0.005", "--seed", "9"]
        let whole = try CLIProcess.run(common + ["-o", dir + "/whole"])
        XCTAssertEqual(whole.status, 0, whole.error)
        XCTAssertFalse(whole.error.contains("HDF5-DIAG"), "the libraries print nothing of their own, on any thread: \(whole.error.prefix(400))")
        XCTAssertTrue(whole.output.contains("lead"), whole.output)

        let (process, _, _) = try CLIProcess.start(common + ["-o", dir + "/killed"])
        let checkpoint = dir + "/killed/member-0/checkpoints/step-00000010"
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, process.isRunning, !FileManager.default.fileExists(atPath: checkpoint) { usleep(2000) }
        guard process.isRunning else { throw XCTSkip("the run finished before it could be killed") }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .uncaughtSignal)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/killed/model"), "killed before the end")

        let again = try CLIProcess.run(common + ["-o", dir + "/killed"])
        XCTAssertEqual(again.status, 1, "a second start without --resume is refused")
        XCTAssertTrue(again.error.contains("--resume"), again.error)
        let resumed = try CLIProcess.run(common + ["-o", dir + "/killed", "--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.error)
        XCTAssertTrue(resumed.error.contains("resuming from step"), resumed.error)
        for path in ["model/member-0.safetensors", "member-0/checkpoints/step-00000040/weights.safetensors",
                     "member-0/checkpoints/step-00000040/optimizer.safetensors"] {
            let a = try Data(contentsOf: URL(fileURLWithPath: dir + "/whole/" + path))
            let b = try Data(contentsOf: URL(fileURLWithPath: dir + "/killed/" + path))
            XCTAssertEqual(a, b, "\(path) differs between the uninterrupted and the killed-and-resumed run")
        }
    }

    func testHelpIsPrintedForEveryCommandWithAnExample() throws {
        let commands = [[], ["inspect"], ["synth"], ["convert"], ["stats"], ["train"], ["bench"],
                        ["bench", "read"], ["bench", "stream"], ["bench", "train"], ["bench", "infer"], ["bench", "conv"]]
        for command in commands {
            let result = try CLIProcess.run(command + ["--help"])
            XCTAssertEqual(result.status, 0, "\(command): \(result.error)")
            XCTAssertTrue(result.output.contains("USAGE: nowcast"), "\(command): \(result.output)")
            // An example line that runs this very command (the root's runs a subcommand).
            let example = "  nowcast " + (command.isEmpty ? "" : command.joined(separator: " ") + " ")
            XCTAssertTrue(result.output.contains(example), "\(command): no example in\n\(result.output)")
            XCTAssertTrue(result.output.contains("docs/CLI.md"), "\(command)")
        }
        XCTAssertTrue(try CLIProcess.run(["help", "train"]).output.contains("USAGE: nowcast train"))
        XCTAssertTrue(try CLIProcess.run(["train", "--help"]).output.contains("--resume"))
    }

    func testTrainErrorsAreOneLine() throws {
        let dir = try folder()
        let store = try smallStore(dir)
        try "store: \(store)\noutput: \(dir)/r\nmodel:\n  type: convlstm\n  layers: 2\n".write(toFile: dir + "/bad.yaml", atomically: true, encoding: .utf8)
        try "store: \(store)\noutput: \(dir)/r\nbatch_size: eight\n".write(toFile: dir + "/type.yaml", atomically: true, encoding: .utf8)
        for (arguments, words) in [
            (["train", "--config", dir + "/bad.yaml"], ["bad.yaml", "unknown key 'model.layers'"]),
            (["train", "--config", dir + "/type.yaml"], ["type.yaml", "batch_size", "whole number"]),
            (["train", "--store", dir + "/absent", "-o", dir + "/r"], ["store", "absent", "does not exist"]),
            (["train", "--store", store, "-o", dir + "/r", "--model", "unet", "--depth", "4"], ["divisible by 16"]),
            (["train", "--store", store, "-o", dir + "/r", "--hidden", "8,x"], ["--hidden"]),
            (["train", "--store", store], ["output"]),
        ] {
            let result = try CLIProcess.run(arguments)
            XCTAssertEqual(result.status, 1, "\(arguments): \(result.error)")
            let lines = result.error.split(separator: "\n").filter { $0.hasPrefix("nowcast:") }
            XCTAssertEqual(lines.count, 1, result.error)
            for word in words { XCTAssertTrue(result.error.contains(word), "'\(result.error)' lacks '\(word)'") }
            XCTAssertEqual(result.output, "")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/r"), "no run folder is left by a failed start")
    }

    func testTrainingStreamsAStoreLargerThanItsMemory() throws {
        let limit = 160  // MB the run may use
        let dir = try folder()
        XCTAssertEqual(try CLIProcess.run(["synth", "-o", dir + "/archive", "--frames", "120", "--size", "288,288", "--no-coverage-mask"]).status, 0)
        let converted = try CLIProcess.run(["convert", "--input", dir + "/archive", "--t-in", "2", "--t-out", "1", "--patch-size", "64",
                                            "--patch-stride", "32", "--block-hours", "2", "--validation", "0.1", "--test", "0", "-o", dir + "/store"])
        XCTAssertEqual(converted.status, 0, converted.error)
        let manifest = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/store/manifest.json"))) as? [String: Any])
        let kept = try XCTUnwrap((manifest["counts"] as? [String: Any])?["kept"] as? [String: Int])
        let samples = kept.values.reduce(0, +)
        let megabytes = samples * 3 * 64 * 64 * 4 / 1_000_000
        XCTAssertGreaterThan(megabytes, 2 * limit, "the store's samples take \(megabytes) MB as float32")

        let result = try CLIProcess.run(["train", "--store", dir + "/store", "-o", dir + "/run", "--model", "unet", "--base", "1", "--depth", "1",
                                         "--epochs", "1", "--batch-size", "32", "--shuffle-buffer", "64", "--validate-every", "0"])
        XCTAssertEqual(result.status, 0, result.error)
        XCTAssertTrue(result.output.contains("\(kept["train"] ?? -1) samples"), "one whole epoch: \(result.output)")
        let peak = try XCTUnwrap(result.output.split(separator: "\n").first { $0.hasPrefix("peak RSS") }?.split(separator: " ").dropFirst(2).first)
        XCTAssertLessThan(try XCTUnwrap(Int(peak)), limit, "peak resident memory in MB while streaming \(megabytes) MB of samples")
    }
}
