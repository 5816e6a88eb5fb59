import Foundation
@testable import NowcastData
import NowcastIO
import XCTest
import NowcastTestSupport

final class SeriesAndWindowTests: XCTestCase {
    func testTheBoMSequenceHas135WindowsOf4Plus6() throws {
        let series = try FrameSeries(files: try ArchiveListing.files([try TestPaths.sharedData("bom_nc_prcp-c10_66_20201031")]))
        XCTAssertEqual(series.count, 144)
        XCTAssertEqual(series.step, 600)
        XCTAssertTrue(series.report.gaps.isEmpty)
        let plan = try WindowPlan(series: series, spec: WindowSpec(inputs: 4, targets: 6), split: SplitSpec(blockHours: 24, validation: 0, test: 0))
        XCTAssertEqual(plan.windows.count, 135)
        XCTAssertEqual(plan.rejectedForGaps, 0)
        let strided = try WindowPlan(series: series, spec: WindowSpec(inputs: 4, targets: 6, stride: 3), split: SplitSpec(validation: 0, test: 0))
        XCTAssertEqual(strided.windows.count, 45)
    }

    func testGapsDuplicatesAndStepAreFound() throws {
        let folder = try temporaryFolder(self)
        let files = try SyntheticData.archive(folder + "/a", frames: 12, size: 16)
        // Remove two frames (a gap of 2 steps) and copy one file under another name (a duplicate time).
        try FileManager.default.removeItem(atPath: files[5])
        try FileManager.default.removeItem(atPath: files[6])
        try FileManager.default.copyItem(atPath: files[2], toPath: folder + "/a/copy.nc")
        let series = try FrameSeries(files: try ArchiveListing.files([folder + "/a"]))
        XCTAssertEqual(series.count, 10)
        XCTAssertEqual(series.step, 600)
        XCTAssertEqual(series.report.duplicates.count, 1)
        XCTAssertEqual(series.report.gaps.map(\.missingSteps), [2])
        let plan = try WindowPlan(series: series, spec: WindowSpec(inputs: 2, targets: 1), split: SplitSpec(validation: 0, test: 0))
        // Starts 0..7 over 10 frames; those spanning the gap (after frame 4 of the series) are rejected.
        XCTAssertEqual(plan.windows.count + plan.rejectedForGaps, 8)
        XCTAssertEqual(plan.rejectedForGaps, 2)
    }

    func testUnreadableFilesAreSkippedOrFatalWithStrict() throws {
        let folder = try temporaryFolder(self)
        try SyntheticData.archive(folder, frames: 4, size: 16)
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: folder + "/broken.nc"))
        let series = try FrameSeries(files: try ArchiveListing.files([folder]))
        XCTAssertEqual(series.count, 4)
        XCTAssertEqual(series.report.skipped.count, 1)
        XCTAssertTrue(series.report.skipped[0].contains("broken.nc"))
        assertFails(try FrameSeries(files: try ArchiveListing.files([folder]), strict: true), mentions: ["broken.nc"])
    }

    func testMixedGridsAndEmptySelectionsAreClearErrors() throws {
        let folder = try temporaryFolder(self)
        try SyntheticData.archive(folder + "/small", frames: 2, size: 16)
        try SyntheticData.archive(folder + "/large", frames: 2, size: 24, start: "2024-06-02T00:00:00Z")
        assertFails(try FrameSeries(files: try ArchiveListing.files([folder + "/small", folder + "/large"])),
                    mentions: ["large", "24 x 24", "16 x 16"])
        assertFails(try ArchiveListing.files([folder + "/none*.nc"]), mentions: ["none*.nc", "matches no file"])
        assertFails(try ArchiveListing.files([folder + "/absent"]), mentions: ["absent", "no such file"])
        let series = try FrameSeries(files: try ArchiveListing.files([folder + "/small"]))
        assertFails(try WindowPlan(series: series, spec: WindowSpec(inputs: 2, targets: 1), split: SplitSpec()),
                    mentions: ["3 frames", "longer than the series of 2"])
    }

    func testGlobsAndFoldersExpandRecursively() throws {
        let folder = try temporaryFolder(self)
        try SyntheticData.archive(folder + "/2024/06/01", frames: 3, size: 16)
        try SyntheticData.archive(folder + "/2024/06/02", frames: 3, size: 16, start: "2024-06-02T00:00:00Z")
        XCTAssertEqual(try ArchiveListing.files([folder]).count, 6)
        XCTAssertEqual(try ArchiveListing.files([folder + "/2024/06/0*/synth_*_0000*.nc"]).count, 2)
    }

    func testSplitsAreWholeBlocksAndPatchesCoverTheGrid() {
        let split = SplitSpec(blockHours: 24, validation: 0.2, test: 0.2, seed: 3)
        var counts: [Split: Int] = [:]
        for block in Int64(0)..<2000 { counts[split.split(ofBlock: block), default: 0] += 1 }
        XCTAssertEqual(Double(counts[.validation] ?? 0) / 2000, 0.2, accuracy: 0.03)
        XCTAssertEqual(Double(counts[.test] ?? 0) / 2000, 0.2, accuracy: 0.03)
        let origins = WindowSpec(inputs: 1, targets: 1, patchSize: 32, patchStride: 16, coarsen: 2).patchOrigins(ny: 128, nx: 100)
        XCTAssertEqual(origins.count, 3 * 2)  // 64 x 50 coarse grid: rows 0, 16, 32; columns 0, 16
        XCTAssertEqual(origins.last?.y, 32)
        XCTAssertEqual(origins.last?.x, 16)
    }
}

/// Window -> sample: the extractor cuts each patch of every frame of a window, in model units,
/// and leaves out what the filters reject.
final class SampleExtractorTests: XCTestCase {
    func testSamplesAreThePatchesOfTheWindowsFramesAndRejectionsAreCounted() throws {
        let folder = try temporaryFolder(self)
        try SyntheticData.archive(folder, frames: 3, size: 16, mask: true)
        let series = try FrameSeries(files: try ArchiveListing.files([folder]))
        let chain = TransformChain([.decibel(threshold: 0.1, zeroValue: -15)])
        let frames = try (0..<3).map { try PreparedFrame(series: series, index: $0, coarsen: 1, chain: chain) }
        let spec = WindowSpec(inputs: 2, targets: 1, patchSize: 8, patchStride: 4)
        var extractor = SampleExtractor(spec: spec, ny: 16, nx: 16, filters: WindowFilters(maxMissingFraction: 1),
                                        staticMissing: try StaticMissing(series: series, coarsen: 1))
        XCTAssertEqual(extractor.origins.count, 9)
        var counts = Manifest.Counts()
        let patch = 5, origin = extractor.origins[patch]
        XCTAssertEqual([origin.y, origin.x], [4, 8])
        let sample = try XCTUnwrap(extractor.sample(frames, patch: patch, counts: &counts))
        var expected: [Float] = []
        for frame in frames {
            for row in 0..<8 {
                let start: Int = (origin.y + row) * 16 + origin.x
                expected += frame.transformed[start..<(start + 8)]
            }
        }
        XCTAssertEqual(sample.map(\.bitPattern), expected.map(\.bitPattern))
        XCTAssertEqual(counts.samplesExamined, 1)
        // A corner patch lies mostly outside the coverage circle: rejected for missing data when
        // the static cells count, and counted as such.
        var strict = SampleExtractor(spec: spec, ny: 16, nx: 16, filters: WindowFilters(maxMissingFraction: 0.05, excludeStaticMissing: false),
                                     staticMissing: try StaticMissing(series: series, coarsen: 1))
        XCTAssertNil(strict.sample(frames, patch: 0, counts: &counts))
        XCTAssertEqual(counts.samplesExamined, 2)
        XCTAssertEqual(counts.rejectedMissing, 1)
    }
}
