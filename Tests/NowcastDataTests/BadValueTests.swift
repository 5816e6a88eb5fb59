import Foundation
import NowcastData
import NowcastIO
import XCTest
import NowcastTestSupport

/// Values and parameters refused at the door: no store holds NaN where its source was valid, an
/// infinity, or nothing at all.
final class BadValueTests: XCTestCase {
    func testTransformParametersThatWouldMakeInfinitiesAreRefused() {
        for text in ["log:0", "log:-1", "rate:0", "rate:inf", "dbr:0:-15", "dbr:0.1:nan", "clip:1:0:0.5", "boxcox:nan:0.1",
                     "boxcox:0.5:0", "zscore:1", "minmax:0:1", "dbr:0.1:-15:3", "log:", "rate:10:2"] {
            assertFails(try Transform(parsing: text), mentions: ["transforms", "'\(text)'"])
        }
        XCTAssertNoThrow(try Transform(parsing: "clip:0.1:0:300"))
        XCTAssertNoThrow(try Transform(parsing: "boxcox:0:0.01"))
        var config = ConvertConfig()
        config.inputs = ["a"]
        config.output = "o"
        config.window.targets = 0
        assertFails(try config.validate(), mentions: ["window.targets", "at least 1", "got 0"])
        config.window.targets = 1
        config.split.blockHours = 1e-9
        assertFails(try config.validate(), mentions: ["split.block_hours"])
    }

    func testNonFiniteSourceValuesAreCountedAndStoredAsMissing() throws {
        let folder = try temporaryFolder(self)
        var frames = (0..<6).map { k in (0..<64).map { Float(($0 + k) % 5) } }
        frames[1][3] = .infinity
        frames[2][7] = -.infinity
        frames[4][0] = .nan
        try valueArchive(folder + "/in", frames: frames, ny: 8, nx: 8)
        var config = ConvertConfig()
        config.inputs = [folder + "/in"]
        config.output = folder + "/store"
        config.transforms = ["dbr:0.1:-15", "zscore"]
        config.window = WindowSpec(inputs: 2, targets: 1, stride: 3)
        config.filters.maxMissingFraction = 0.5
        config.split = SplitSpec(blockHours: 24, validation: 0, test: 0)
        let manifest = try Converter(config: config).run()
        XCTAssertEqual(manifest.counts.nonFiniteValues, 3)
        XCTAssertEqual(manifest.counts.keptTotal, 2)
        let samples = try allSamples(try SampleStore(folder: config.output), .train)
        for sample in samples { XCTAssertTrue(sample.allSatisfy { $0.isNaN || $0.isFinite }) }
        XCTAssertTrue(samples[0][64 + 3].isNaN, "the infinity is stored as missing")
        XCTAssertFalse(manifest.transforms.steps.contains { !$0.parametersAreFinite })
        XCTAssertTrue(manifest.statistics.map { $0.mean.isFinite && $0.variance.isFinite } ?? false)
    }

    func testATransformThatMakesAnInfinityFromAValidValueNamesTheFrameAndWritesNothing() throws {
        let folder = try temporaryFolder(self)
        var frames = (0..<4).map { _ in [Float](repeating: 1, count: 16) }
        frames[2][5] = -0.5  // a negative rate: log(x + 0.1) is NaN
        try valueArchive(folder + "/in", frames: frames, ny: 4, nx: 4)
        var config = ConvertConfig()
        config.inputs = [folder + "/in"]
        config.output = folder + "/store"
        config.transforms = ["log:0.1"]
        config.window = WindowSpec(inputs: 2, targets: 1)
        config.split = SplitSpec(blockHours: 24, validation: 0, test: 0)
        assertFails(try Converter(config: config).run(), mentions: ["values_002.nc", "2024-06-01T00:20:00Z", "log(x + 0.1)", "-0.5",
                                                                  "row 1, column 1"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: config.output), "nothing written: \((try? FileManager.default.contentsOfDirectory(atPath: config.output)) ?? [])")
    }

    func testAnEmptyStoreSaysWhichFilterRejectedTheSamplesAndLeavesNothing() throws {
        let folder = try temporaryFolder(self)
        try SyntheticData.archive(folder + "/in", frames: 12, size: 48, mask: true)
        var config = ConvertConfig()
        config.inputs = [folder + "/in"]
        config.output = folder + "/store"
        config.window = WindowSpec(inputs: 2, targets: 2)
        config.split = SplitSpec(blockHours: 24, validation: 0, test: 0)
        config.filters.excludeStaticMissing = false
        assertFails(try Converter(config: config).run(), mentions: ["all 9 samples were rejected", "9 for missing data",
                                                                  "filters.max_missing_fraction is 0.05", "least missing of them has 2"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: config.output), "no store, no folder")
        // Leaving the never-observed corners out of the share (the default) keeps every sample.
        config.filters.excludeStaticMissing = true
        let manifest = try Converter(config: config).run()
        XCTAssertEqual(manifest.counts.keptTotal, 9)
        let corners = try XCTUnwrap(manifest.staticMissing)
        XCTAssertGreaterThan(corners.fraction, 0.15)
        XCTAssertLessThan(corners.fraction, 0.3)
        // Too dry: the message gives the wettest sample.
        config.output = folder + "/dry"
        config.filters.minWetFraction = 0.99
        assertFails(try Converter(config: config).run(), mentions: ["as too dry", "filters.min_wet_fraction is 0.99", "wettest of them"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: config.output))
    }

    func testNoValidValueToFitOnAndNoWindowAreErrorsBeforeAnyStore() throws {
        let folder = try temporaryFolder(self)
        try valueArchive(folder + "/in", frames: (0..<4).map { _ in [Float](repeating: -9999, count: 16) }, ny: 4, nx: 4)
        var config = ConvertConfig()
        config.inputs = [folder + "/in"]
        config.output = folder + "/store"
        config.transforms = ["zscore"]
        config.window = WindowSpec(inputs: 2, targets: 1)
        config.filters.maxMissingFraction = 1
        config.split = SplitSpec(blockHours: 24, validation: 0, test: 0)
        assertFails(try Converter(config: config).run(), mentions: ["no valid value to fit", "zscore"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: config.output))
        config.split.blockHours = 0.25  // 15-minute blocks cannot hold three 10-minute frames
        assertFails(try Converter(config: config).run(), mentions: ["no window of 3 consecutive frames", "cross split blocks", "split.block_hours"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: config.output))
    }

    func testAShardSampleHoldingAnInfinityIsNamedWhenRead() throws {
        let folder = try temporaryFolder(self)
        try SyntheticData.archive(folder + "/in", frames: 12, size: 16)
        var config = ConvertConfig()
        config.inputs = [folder + "/in"]
        config.output = folder + "/store"
        config.window = WindowSpec(inputs: 2, targets: 1)
        config.filters.maxMissingFraction = 1
        config.split = SplitSpec(blockHours: 24, validation: 0, test: 0)
        try Converter(config: config).run()
        let store = try SampleStore(folder: config.output)
        let shard = try XCTUnwrap(store.shards(.train).first)
        let samples = try allSamples(store, .train)
        // The shard written again as another tool might, with an infinity in sample 1.
        let path = config.output + "/" + shard.path
        let writer = try NetCDFWriter(path: path)
        try writer.addDimension("sample", length: nil)
        try writer.addDimension("time", length: 3)
        try writer.addDimension("y", length: 16)
        try writer.addDimension("x", length: 16)
        try writer.addVariable("data", type: .float32, dimensions: ["sample", "time", "y", "x"],
                               storage: .init(chunks: [1, 3, 16, 16], deflateLevel: 1, shuffle: true))
        try writer.addVariable("valid_time", type: .int64, dimensions: ["sample", "time"])
        var values = samples.flatMap { $0 }
        values[768 + 5] = .infinity
        try writer.write("data", values, start: [0, 0, 0, 0], count: [samples.count, 3, 16, 16])
        try writer.write("valid_time", [Int64](repeating: 0, count: samples.count * 3), start: [0, 0], count: [samples.count, 3])
        try writer.finish()
        let reader = try store.open(shard)
        var buffer = [Float](repeating: 0, count: reader.count * 768)
        assertFails(try buffer.withUnsafeMutableBufferPointer { try reader.read(0..<reader.count, into: $0) },
                    mentions: [shard.path, "sample 1", "not finite"])
        XCTAssertNoThrow(try store.verify(.train), "the last sample is intact: the check at the start reads it only")
    }
}
