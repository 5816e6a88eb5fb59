import Foundation
import NowcastCore
import NowcastIO
import XCTest
import NowcastTestSupport

/// Write failures in the project's words: the cause from errno or from Foundation, the path named.
final class FileErrorTests: XCTestCase {
    func testCausesAreNamedInWordsAUserActsOn() {
        XCTAssertEqual(FileError.write("/d/f.nc", FileFailure(errno: ENOSPC)).description, "no space left on device while writing /d/f.nc")
        XCTAssertEqual(FileError.write("/d/f.nc", FileFailure(errno: EDQUOT)).description, "disk quota exceeded while writing /d/f.nc")
        XCTAssertEqual(FileError.write("/d/f.nc", FileFailure(errno: EACCES)).description, "permission denied: /d/f.nc")
        XCTAssertEqual(FileError.write("/d/f.nc", FileFailure(errno: EROFS)).description, "read-only file system: /d/f.nc")
        XCTAssertEqual(FileError.write("/d/f.nc", FileFailure(errno: EIO)).description, "input/output error while writing /d/f.nc")
        XCTAssertEqual(FileFailure(CocoaError(.fileWriteOutOfSpace)), .noSpace)
        XCTAssertEqual(FileFailure(POSIXError(.EACCES)), .permissionDenied)
        XCTAssertEqual(FileFailure(NSError(domain: NSCocoaErrorDomain, code: 512, userInfo: [NSUnderlyingErrorKey: POSIXError(.ENOSPC)])), .noSpace)
        let cocoa = CocoaError(.fileWriteOutOfSpace, userInfo: [NSFilePathErrorKey: "/data/x.json"])
        XCTAssertEqual(oneLine(cocoa), "/data/x.json: no space left on device")
    }

    func testWritersNameTheFolderThatIsMissingOrAFile() throws {
        let dir = try temporaryFolder(self)
        try Data("x".utf8).write(to: URL(fileURLWithPath: dir + "/file"))
        XCTAssertThrowsError(try AtomicOutput.write(Data(), to: dir + "/file/inside.json")) {
            XCTAssertEqual("\($0)", "\(dir)/file is a file, not a folder")
        }
        XCTAssertThrowsError(try FileError.createFolder(dir + "/file/sub")) { XCTAssertEqual("\($0)", "\(dir)/file is a file, not a folder") }
        XCTAssertThrowsError(try AtomicOutput.write(Data(), to: dir + "/absent/x.json")) {
            XCTAssertEqual("\($0)", "\(dir)/absent/x.json: no such file or folder")
        }
        XCTAssertThrowsError(try NetCDFWriter(path: dir + "/absent/x.nc")) { XCTAssertTrue("\($0)".contains("no such file or folder"), "\($0)") }
    }

    func testAtomicWritesLeaveTheOldFileOrTheNewOneAndNoTemporaryFile() throws {
        let dir = try temporaryFolder(self)
        try AtomicOutput.write(Data("old".utf8), to: dir + "/a.json")
        try AtomicOutput.write(Data("new".utf8), to: dir + "/a.json")
        XCTAssertEqual(try String(contentsOfFile: dir + "/a.json", encoding: .utf8), "new")
        XCTAssertThrowsError(try AtomicOutput.writeFolder(dir + "/folder") { temporary in
            try AtomicOutput.write(Data("x".utf8), to: temporary + "/one")
            throw FileError.write(temporary + "/two", .noSpace)
        }) { XCTAssertEqual("\($0)", "no space left on device while writing \(dir)/folder/two", "named as in the finished folder") }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["a.json"])
        let reserve = try SpaceReserve(beside: dir + "/out.nc", bytes: 1 << 16)
        XCTAssertEqual((try FileManager.default.attributesOfItem(atPath: reserve.path)[.size] as? Int), 1 << 16)
        reserve.release()
        XCTAssertFalse(FileManager.default.fileExists(atPath: reserve.path))
        XCTAssertNil(FileError.probingWrite(at: dir + "/.probe", reportingAs: dir + "/out.nc"), "the disk has room")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/.probe"))
    }
}
