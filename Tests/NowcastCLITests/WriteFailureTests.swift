import Foundation
import NowcastIO
#if canImport(Glibc)
import Glibc
#endif
import XCTest
import NowcastTestSupport

/// Every writing command run into a file system too small for it (a tmpfs mounted at a tenth, a
/// quarter, half and nine tenths of what an unhindered run wrote) and into a folder made read-only
/// while it runs: exit status 1, one line naming the path and the cause, no temporary file and no
/// finished-looking output left, and once there is room again, a rerun that gives what the
/// unhindered run gave. Mounting needs root (CI runs as root); elsewhere the tests are skipped.
final class WriteFailureTests: XCTestCase {
    private static let fractions = [0.1, 0.25, 0.5, 0.9]

    private func folder() throws -> String { try temporaryFolder(self, prefix: "nowcast-full") }

    // MARK: - A full disk

    func testSynthOnAFullDisk() throws {
        for format in ["netcdf", "odim"] {
            let dir = try folder()
            let arguments = ["synth", "--frames", "24", "--size", "256,256", "--format", format, "--seed", "3"]
            try runOnSmallDisks(arguments, output: "archive", reference: dir + "/reference", context: format) { archive in
                // What was written is whole: every file there decodes to the reference's values.
                for name in try FileManager.default.contentsOfDirectory(atPath: archive) {
                    XCTAssertEqual(try Self.frames(archive + "/" + name), try Self.frames(dir + "/reference/" + name), name)
                }
            } afterRerun: { try self.assertSameArchive($0, dir + "/reference") }
        }
    }

    func testConvertOnAFullDisk() throws {
        let dir = try folder()
        XCTAssertEqual(try CLIProcess.run(["synth", "-o", dir + "/archive", "--frames", "160", "--size", "128,128", "--seed", "5"]).status, 0)
        let arguments = ["convert", "--input", dir + "/archive", "--t-in", "4", "--t-out", "4", "--max-missing-fraction", "0.5",
                         "--block-hours", "1", "--deflate-level", "0", "--shard-size", "16"]
        try runOnSmallDisks(arguments, output: "store", reference: dir + "/reference", context: "convert") { store in
            XCTAssertFalse(FileManager.default.fileExists(atPath: store + "/manifest.json"), "no finished-looking store")
        } afterRerun: { try self.assertSameStore($0, dir + "/reference") }
    }

    func testTrainOnAFullDisk() throws {
        let dir = try folder()
        let arguments = Self.trainArguments(try Self.smallStore(dir))
        try runOnSmallDisks(arguments, output: "run", reference: dir + "/reference", context: "train",
                            rerunWith: { FileManager.default.fileExists(atPath: $0 + "/config.json") ? ["--resume"] : [] }) { run in
            XCTAssertFalse(FileManager.default.fileExists(atPath: run + "/model"), "no finished-looking model")
        } afterRerun: { try self.assertSameWeights($0, dir + "/reference") }
    }

    /// Runs `arguments` into `reference` on the disk as it is, then into `output` on a tmpfs of each
    /// fraction of what that took: it must fail in one line naming the path, leave no temporary
    /// file (`afterFailure` checks the rest), and once the tmpfs is grown, a rerun (with the
    /// arguments `rerunWith` adds) must succeed and give what the reference holds (`afterRerun`).
    private func runOnSmallDisks(_ arguments: [String], output name: String, reference: String, context: String,
                                 rerunWith: (String) -> [String] = { _ in [] }, afterFailure: (String) throws -> Void,
                                 afterRerun: (String) throws -> Void) throws {
        XCTAssertEqual(try CLIProcess.run(arguments + ["-o", reference]).status, 0)
        let needed = try Self.bytes(in: reference)
        for fraction in Self.fractions {
            let disk = try Tmpfs(self, bytes: Int(Double(needed) * fraction))
            let output = disk.path + "/" + name
            let failed = try CLIProcess.run(arguments + ["-o", output])
            assertOneLineFailure(failed, naming: output, cause: "no space left on device while writing", "\(context) at \(fraction)")
            try afterFailure(output)
            try assertNoTemporaryFiles(disk.path)
            try disk.grow(to: 2 * needed + (8 << 20))
            let again = try CLIProcess.run(arguments + ["-o", output] + rerunWith(output))
            XCTAssertEqual(again.status, 0, "\(context) at \(fraction), rerun: \(again.error)")
            try afterRerun(output)
        }
    }

    // MARK: - A folder made read-only while the command runs

    func testConvertIntoAFolderMadeReadOnly() throws {
        let dir = try folder()
        XCTAssertEqual(try CLIProcess.run(["synth", "-o", dir + "/archive", "--frames", "160", "--size", "128,128", "--seed", "5"]).status, 0)
        let arguments = ["convert", "--input", dir + "/archive", "--t-in", "4", "--t-out", "4", "--max-missing-fraction", "0.5",
                         "--block-hours", "1", "--shard-size", "8"]
        XCTAssertEqual(try CLIProcess.run(arguments + ["-o", dir + "/reference"]).status, 0)
        let store = dir + "/store"
        try interruptByReadOnlyFolder(arguments + ["-o", store], output: store, once: store + "/convert-state.json", minimumBytes: 400,
                                      unfinished: store + "/manifest.json")
        try assertSameStore(store, dir + "/reference")
    }

    func testTrainIntoAFolderMadeReadOnly() throws {
        let dir = try folder()
        let store = try Self.smallStore(dir)
        let arguments = Self.trainArguments(store)
        XCTAssertEqual(try CLIProcess.run(arguments + ["-o", dir + "/reference"]).status, 0)
        let run = dir + "/run"
        try interruptByReadOnlyFolder(arguments + ["-o", run], output: run, once: run + "/member-0/checkpoints/step-00000005",
                                      unfinished: run + "/model", resume: true)
        try assertSameWeights(run, dir + "/reference")
    }

    /// Runs `arguments` as an unprivileged user (root writes into read-only folders), makes every
    /// folder under `output` read-only once `once` exists (the process stopped meanwhile), checks
    /// the failure (`unfinished` must not exist), then restores the permissions and reruns (with
    /// `--resume` when asked).
    private func interruptByReadOnlyFolder(_ arguments: [String], output: String, once marker: String, minimumBytes: Int = 0,
                                           unfinished: String, resume: Bool = false) throws {
        guard getuid() == 0 else { throw XCTSkip("making a folder read-only for a running command needs root (to run it as nobody)") }
        let parent = (output as NSString).deletingLastPathComponent
        try Self.shell("chown -R nobody:nogroup '\(parent)'")
        let asNobody = ["--reuid=nobody", "--regid=nogroup", "--clear-groups", CLIProcess.executable]
        let (process, _, err) = try CLIProcess.start(asNobody + arguments, program: "/usr/bin/setpriv")
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, process.isRunning {
            if let size = try? FileManager.default.attributesOfItem(atPath: marker)[.size] as? Int, size >= minimumBytes { break }
            usleep(1000)
        }
        guard process.isRunning else { throw XCTSkip("the command finished before its folder could be made read-only") }
        kill(process.processIdentifier, SIGSTOP)
        try Self.shell("find '\(output)' -type d -exec chmod a-w {} +")
        kill(process.processIdentifier, SIGCONT)
        let error = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try Self.shell("find '\(output)' -type d -exec chmod u+w {} +")
        assertOneLineFailure((process.terminationStatus, "", error), naming: output, cause: "permission denied: ", "read-only folder")
        XCTAssertFalse(FileManager.default.fileExists(atPath: unfinished), "no finished-looking output")
        try assertNoTemporaryFiles(output)
        let again = try CLIProcess.run(asNobody + arguments + (resume ? ["--resume"] : []), program: "/usr/bin/setpriv")
        XCTAssertEqual(again.status, 0, again.error)
    }

    // MARK: - Checks

    private func assertOneLineFailure(_ result: (status: Int32, output: String, error: String), naming path: String, cause: String,
                                      _ context: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(result.status, 1, "\(context): exit status; stderr: \(result.error)", file: file, line: line)
        let messages = result.error.split(separator: "\n").filter { $0.hasPrefix("nowcast:") }
        XCTAssertEqual(messages.count, 1, "\(context): one line: \(result.error)", file: file, line: line)
        let message = messages.first.map(String.init) ?? ""
        XCTAssertTrue(message.contains(cause) && message.contains(path), "\(context): '\(message)' lacks '\(cause)' or '\(path)'",
                      file: file, line: line)
        XCTAssertFalse(message.contains("NSCocoaErrorDomain") || message.contains(".partial-"), "\(context): \(message)", file: file, line: line)
    }

    private func assertNoTemporaryFiles(_ folder: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let left = try FileManager.default.subpathsOfDirectory(atPath: folder).filter { $0.contains(".partial-") || $0.contains(".old-") }
        XCTAssertEqual(left, [], "temporary files left behind", file: file, line: line)
    }

    private func assertSameArchive(_ archive: String, _ reference: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: reference).sorted()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: archive).sorted(), names, file: file, line: line)
        for name in names {
            XCTAssertEqual(try Self.frames(archive + "/" + name), try Self.frames(reference + "/" + name), name, file: file, line: line)
        }
    }

    /// Shards bit-identical, manifests equal but for the output folder.
    private func assertSameStore(_ store: String, _ reference: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let shards = try FileManager.default.subpathsOfDirectory(atPath: reference).filter { $0.hasSuffix(".nc") }.sorted()
        XCTAssertFalse(shards.isEmpty, file: file, line: line)
        XCTAssertEqual(try FileManager.default.subpathsOfDirectory(atPath: store).filter { $0.hasSuffix(".nc") }.sorted(), shards,
                       file: file, line: line)
        for shard in shards {
            XCTAssertEqual(FileManager.default.contents(atPath: store + "/" + shard), FileManager.default.contents(atPath: reference + "/" + shard),
                           shard, file: file, line: line)
        }
        func manifest(_ folder: String) throws -> NSDictionary {
            let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/manifest.json"))
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            var config = try XCTUnwrap(object["config"] as? [String: Any])
            config["output"] = nil
            return NSDictionary(dictionary: object.merging(["config": config]) { $1 })
        }
        XCTAssertEqual(try manifest(store), try manifest(reference), file: file, line: line)
    }

    private func assertSameWeights(_ run: String, _ reference: String, file: StaticString = #filePath, line: UInt = #line) throws {
        for path in ["model/member-0.safetensors", "member-0/checkpoints/step-00000020/optimizer.safetensors"] {
            let ours = FileManager.default.contents(atPath: run + "/" + path)
            XCTAssertNotNil(ours, path, file: file, line: line)
            XCTAssertEqual(ours, FileManager.default.contents(atPath: reference + "/" + path), path, file: file, line: line)
        }
    }

    // MARK: - Helpers

    private static func trainArguments(_ store: String) -> [String] {
        ["train", "--store", store, "--model", "convlstm", "--hidden", "8", "--steps", "20", "--batch-size", "2",
         "--checkpoint-every", "5", "--validate-every", "10", "--learning-rate", "0.005", "--seed", "9"]
    }

    private static func smallStore(_ dir: String) throws -> String {
        XCTAssertEqual(try CLIProcess.run(["synth", "-o", dir + "/archive", "--frames", "40", "--size", "48,48", "--step", "10",
                                           "--no-coverage-mask"]).status, 0)
        let converted = try CLIProcess.run(["convert", "--input", dir + "/archive", "--transform", "dbr:0.1:-15", "--transform", "zscore",
                                            "--t-in", "3", "--t-out", "2", "--patch-size", "24", "--block-hours", "1", "--validation", "0.3",
                                            "--test", "0", "--split-seed", "2", "-o", dir + "/store"])
        XCTAssertEqual(converted.status, 0, converted.error)
        return dir + "/store"
    }

    /// Bytes of the files under `folder`, as a file system has to hold them (whole 4 KiB pages).
    private static func bytes(in folder: String) throws -> Int {
        try FileManager.default.subpathsOfDirectory(atPath: folder).reduce(0) { total, path in
            let size = (try FileManager.default.attributesOfItem(atPath: folder + "/" + path)[.size] as? Int) ?? 0
            return total + (size + 4095) / 4096 * 4096
        }
    }

    private static func frames(_ path: String) throws -> [[Float]] {
        try openFieldFile(path).readAllFrames().map(\.values).map { $0.map { $0.isNaN ? -999 : $0 } }
    }

    static func shell(_ command: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw XCTSkip("'\(command)' failed (status \(process.terminationStatus))") }
    }
}

/// A tmpfs of a given size mounted on a fresh folder for one test, unmounted when it ends.
private final class Tmpfs {
    let path: String

    init(_ test: XCTestCase, bytes: Int) throws {
        guard getuid() == 0 else { throw XCTSkip("filling a disk needs a tmpfs of our own, and mounting one needs root") }
        path = try temporaryFolder(test, prefix: "nowcast-tmpfs")
        try WriteFailureTests.shell("mount -t tmpfs -o size=\(Self.pages(bytes)) tmpfs '\(path)'")
        test.addTeardownBlock { [path] in try? WriteFailureTests.shell("umount -l '\(path)'") }
    }

    /// Gives the mounted file system `bytes` in all (its files stay).
    func grow(to bytes: Int) throws {
        try WriteFailureTests.shell("mount -o remount,size=\(Self.pages(bytes)) '\(path)'")
    }

    private static func pages(_ bytes: Int) -> Int { max(1, (bytes + 4095) / 4096) * 4096 }
}
