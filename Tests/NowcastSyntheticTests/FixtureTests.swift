import Foundation
import NowcastIO
import NowcastSynthetic
import XCTest
import NowcastTestSupport

/// The committed fixtures (made by tools/make-fixtures) still decode to what the generator makes
/// today: a change to the generator or the readers that alters values shows here.
final class FixtureTests: XCTestCase {
    private var fixtures: URL { URL(fileURLWithPath: TestPaths.fixtures()) }

    func testCommittedFixturesMatchTheGeneratorBitForBit() throws {
        let start = try XCTUnwrap(UTCTime.parse("2024-06-01T12:00:00Z"))
        let folder = try temporaryFolder(self)
        for format in SyntheticArchive.Format.allCases {
            let archive = SyntheticArchive(rain: .init(ny: 48, nx: 64, stepMinutes: 10, seed: 42), frames: 4, start: start, format: format)
            let fresh = try archive.write(to: folder + "/" + format.rawValue)
            let committed = try TestPaths.files(in: fixtures.appendingPathComponent("synth-\(format.rawValue)").path, extension: "." + format.fileExtension)
            XCTAssertEqual(committed.map { URL(fileURLWithPath: $0).lastPathComponent }, fresh.map { URL(fileURLWithPath: $0).lastPathComponent })
            for (a, b) in zip(committed, fresh) {
                let x = try openFieldFile(a).readFrame(0), y = try openFieldFile(b).readFrame(0)
                XCTAssertEqual(x.values.map(\.bitPattern), y.values.map(\.bitPattern), a)
                XCTAssertEqual(x.validTime, y.validTime)
                XCTAssertEqual(x.grid, y.grid)
            }
        }
    }
}
