import Foundation
import NowcastCore
@testable import NowcastData
import NowcastIO
import XCTest
import NowcastTestSupport

final class StoreTests: XCTestCase {
    /// Writes 8 x 8 frames with the given values, 10 minutes apart.
    private func handMadeArchive(_ folder: String, frames: [[Float]]) throws -> [String] {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return try frames.enumerated().map { index, values in
            let path = folder + String(format: "/frame_%02d.nc", index)
            let writer = try NetCDFWriter(path: path)
            try writer.addDimension("y", length: 8)
            try writer.addDimension("x", length: 8)
            try writer.addVariable("rain", type: .float32, dimensions: ["y", "x"], attributes: Attributes([("units", .text("mm h-1"))]))
            try writer.addVariable("time", type: .int64, dimensions: [], attributes: Attributes([("units", .text("seconds since 2024-01-01"))]))
            try writer.write("rain", values)
            try writer.write("time", [Int64(index * 600)])
            try writer.finish()
            return path
        }
    }

    func testFilterCountsOnKnownFrames() throws {
        let folder = try temporaryFolder(self)
        let wet = [Float](repeating: 1, count: 64), dry = [Float](repeating: 0, count: 64)
        var holes = wet
        for i in 0..<10 { holes[i * 3] = .nan }
        try handMadeArchive(folder + "/in", frames: [wet, dry, holes, wet, dry, wet]).forEach { _ = $0 }
        var config = ConvertConfig()
        config.inputs = [folder + "/in"]
        config.output = folder + "/store"
        config.window = WindowSpec(inputs: 1, targets: 1)
        config.filters = WindowFilters(maxMissingFraction: 0.05, minWetFraction: 0.5, wetThreshold: 0.5, wetFrames: .inputs)
        config.split = SplitSpec(blockHours: 24, validation: 0, test: 0)
        let manifest = try Converter(config: config).run()
        let c = manifest.counts
        XCTAssertEqual(c.windows, 5)
        XCTAssertEqual(c.samplesExamined, 5)
        XCTAssertEqual(c.rejectedMissing, 2, "windows holding the frame with 10 of 64 values missing")
        XCTAssertEqual(c.rejectedDry, 1, "the window whose input is dry")
        XCTAssertEqual(c.kept["train"], 2)
        let samples = try allSamples(try SampleStore(folder: config.output), .train)
        XCTAssertEqual(samples.count, 2)
        XCTAssertEqual(samples[0], wet + dry)
        XCTAssertEqual(samples[1], wet + dry)
    }

    func testBlockMeanCoarseningIgnoresMissingValues() {
        // 4 x 6 field, factor 2: blocks of 2 x 2; a block with one NaN averages the other three; an
        // all-NaN block stays missing; rows and columns beyond whole blocks are dropped (none here).
        let n = Float.nan
        let field: [Float] = [1, 3, 0, 0, n, n,
                              5, 7, 0, 4, n, n,
                              2, n, 8, 8, 1, 1,
                              2, 2, 8, 8, 1, 1]
        let coarse = Coarsening.blockMean(field, ny: 4, nx: 6, factor: 2)
        XCTAssertEqual(coarse.count, 6)
        XCTAssertEqual(Array(coarse[0...1]), [4, 1])
        XCTAssertTrue(coarse[2].isNaN)
        XCTAssertEqual(Array(coarse[3...5]), [2, 8, 1])
        XCTAssertEqual(Coarsening.blockMean([1, 2, 3, 4, 5, 6, 7, 8, 9], ny: 3, nx: 3, factor: 2), [3])
    }

    func testNoWindowLeaksAcrossSplitsAndTimesAreKept() throws {
        let folder = try temporaryFolder(self)
        try SyntheticData.archive(folder + "/in", frames: 60, size: 48)
        let config = smallConfig([folder + "/in"], output: folder + "/store")
        let manifest = try Converter(config: config).run()
        let store = try SampleStore(folder: config.output)
        var framesBySplit: [Split: Set<Date>] = [:]
        for split in Split.allCases {
            for shard in store.shards(split) {
                let reader = try store.open(shard)
                for k in 0..<reader.count {
                    let times = try reader.validTimes(k)
                    XCTAssertEqual(times.count, 5)
                    let blocks = Set(times.map(config.split.block(of:)))
                    XCTAssertEqual(blocks.count, 1, "a sample lies in one block")
                    XCTAssertEqual(config.split.split(ofBlock: blocks.first ?? 0), split)
                    framesBySplit[split, default: []].formUnion(times)
                }
            }
        }
        let splits = Split.allCases.map { framesBySplit[$0] ?? [] }
        for a in 0..<3 { for b in (a + 1)..<3 { XCTAssertTrue(splits[a].isDisjoint(with: splits[b]), "no frame in two splits") } }
        XCTAssertGreaterThan(manifest.counts.kept["train"] ?? 0, 0)
        XCTAssertGreaterThan((manifest.counts.kept["validation"] ?? 0) + (manifest.counts.kept["test"] ?? 0), 0)
        XCTAssertEqual(Split.allCases.map { store.sampleCount($0) }, Split.allCases.map { manifest.counts.kept[$0.rawValue] ?? 0 })
        XCTAssertGreaterThan(manifest.counts.rejectedSplitBoundary, 0)
        // The stored values invert to physical rain rates.
        let sample = try XCTUnwrap(try allSamples(store, .train).first)
        var physical = sample
        physical.withUnsafeMutableBufferPointer { manifest.transforms.inverse($0) }
        XCTAssertGreaterThanOrEqual(physical.filter { !$0.isNaN }.min() ?? -1, 0)
        XCTAssertFalse(manifest.transforms.needsFitting)
    }

    func testAnInterruptedConversionResumesToTheSameStore() throws {
        let folder = try temporaryFolder(self)
        try SyntheticData.archive(folder + "/in", frames: 60, size: 48)
        var config = smallConfig([folder + "/in"], output: folder + "/whole")
        config.packInt16 = true
        let whole = try Converter(config: config).run()

        config.output = folder + "/resumed"
        let interrupted = Converter(config: config)
        interrupted.stopAfterRanges = 2
        XCTAssertThrowsError(try interrupted.run())
        let state = try JSONCoding.decoder().decode(ConvertState.self, from: try Data(contentsOf: URL(fileURLWithPath: config.output + "/convert-state.json")))
        XCTAssertEqual(state.ranges, 2)
        XCTAssertFalse(FileManager.default.fileExists(atPath: config.output + "/manifest.json"))
        // A half-written shard of the killed run lies about as a temporary file.
        try FileManager.default.createDirectory(atPath: config.output + "/train", withIntermediateDirectories: true)
        try Data("partial".utf8).write(to: URL(fileURLWithPath: config.output + "/train/.shard-00009.nc.partial-1-x"))
        let resumed = try Converter(config: config).run()
        XCTAssertEqual(resumed.counts, whole.counts)
        XCTAssertEqual(resumed.shards, whole.shards)
        XCTAssertEqual(resumed.transforms, whole.transforms)
        let a = try SampleStore(folder: folder + "/whole"), b = try SampleStore(folder: config.output)
        for split in Split.allCases {
            XCTAssertEqual(try allSamples(a, split).map { $0.map(\.bitPattern) }, try allSamples(b, split).map { $0.map(\.bitPattern) })
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: config.output + "/convert-state.json"))
        XCTAssertFalse(try FileManager.default.subpathsOfDirectory(atPath: config.output).contains { $0.contains(".partial-") })
        // Running again is a no-op; another config in the same folder is refused.
        XCTAssertEqual(try Converter(config: config).run(), resumed)
        var other = config
        other.window.stride = 2
        assertFails(try Converter(config: other).run(), mentions: ["resumed", "another configuration"])
    }

    func testBatchesAreDeterministicPerSeedAndCoverEverySampleOnce() throws {
        let folder = try temporaryFolder(self)
        try SyntheticData.archive(folder + "/in", frames: 50, size: 48)
        var config = smallConfig([folder + "/in"], output: folder + "/store")
        config.split = SplitSpec(blockHours: 24, validation: 0, test: 0)
        try Converter(config: config).run()
        let store = try SampleStore(folder: config.output)
        let total = store.sampleCount(.train)
        XCTAssertGreaterThan(total, 20)
        func epoch(_ seed: UInt64, _ epoch: Int, buffer: Int = 16, dropLast: Bool = false, skipping: Int = 0) throws -> [Batch] {
            let iterator = try BatchStream(store: store, options: BatchStreamOptions(batchSize: 4, shuffleBuffer: buffer, seed: seed, dropLast: dropLast))
                .epoch(epoch, skippingBatches: skipping)
            var batches: [Batch] = []
            while let batch = try iterator.next() { batches.append(batch) }
            return batches
        }
        let first = try epoch(7, 0), again = try epoch(7, 0), next = try epoch(7, 1), ordered = try epoch(7, 0, buffer: 0)
        XCTAssertEqual(first.map { $0.inputs.map(\.bitPattern) }, again.map { $0.inputs.map(\.bitPattern) }, "same seed, same batches")
        XCTAssertNotEqual(first.map { $0.inputs.map(\.bitPattern) }, next.map { $0.inputs.map(\.bitPattern) }, "another epoch, another order")
        XCTAssertEqual(first.reduce(0) { $0 + $1.count }, total)
        XCTAssertEqual(first.count, (total + 3) / 4)
        XCTAssertEqual(try epoch(7, 0, dropLast: true).count, total / 4)
        // A resumed run picks the epoch up mid-way: the batches after the skipped ones are the full pass's.
        XCTAssertEqual(try epoch(7, 0, skipping: 3).map { $0.inputs.map(\.bitPattern) }, first.dropFirst(3).map { $0.inputs.map(\.bitPattern) })
        // Every sample exactly once: the multiset of samples equals the store's.
        func key(_ batches: [Batch]) -> [String] {
            batches.flatMap { batch -> [String] in
                let inputSize = batch.inputFrames * batch.height * batch.width, targetSize = batch.targetFrames * batch.height * batch.width
                return (0..<batch.count).map { k in
                    "\(batch.inputs[(k * inputSize)..<((k + 1) * inputSize)].map(\.bitPattern))\(batch.targets[(k * targetSize)..<((k + 1) * targetSize)].map(\.bitPattern))"
                }
            }.sorted()
        }
        XCTAssertEqual(key(first), key(ordered))
        XCTAssertEqual(first[0].inputShape, [4, 3, 1, 24, 24])
        XCTAssertEqual(first[0].targetShape, [4, 2, 1, 24, 24])
    }

    func testConfigErrorsNameTheKey() throws {
        assertFails(try ConvertConfig.parse("inputs: [a]\nwindow:\n  inputs: 4\n  horizon: 6\n", source: "c.yaml"),
                    mentions: ["c.yaml", "unknown key 'window.horizon'", "targets"])
        assertFails(try ConvertConfig.parse("inputz: [a]\n", source: "c.yaml"), mentions: ["unknown key 'inputz'"])
        assertFails(try ConvertConfig.parse("inputs: [a]\nshard_size: many\n", source: "c.yaml"), mentions: ["shard_size", "whole number"])
        assertFails(try ConvertConfig.parse("inputs: [a\n", source: "c.yaml"), mentions: ["c.yaml", "not valid YAML"])
        var config = try ConvertConfig.parse("{\"inputs\": [\"a\"], \"output\": \"o\", \"transforms\": [\"dbr:0.1:-15\", \"cube\"]}", source: "c.json")
        assertFails(try config.validate(), mentions: ["transforms", "cube"])
        config.transforms = []
        config.split.validation = 0.8
        config.split.test = 0.5
        assertFails(try config.validate(), mentions: ["split.validation + split.test"])
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("fixtures/convert.yaml").path
        let example = try ConvertConfig.load(path: fixture)
        XCTAssertEqual(example.window.inputs, 4)
        XCTAssertEqual(example.transforms, ["dbr:0.1:-15", "zscore"])
    }

    func testShardsOpenInXarray() throws {
        try Python.require(["xarray"])
        let folder = try temporaryFolder(self)
        try SyntheticData.archive(folder + "/in", frames: 20, size: 48)
        var config = smallConfig([folder + "/in"], output: folder + "/store")
        config.packInt16 = true
        config.split = SplitSpec(blockHours: 24, validation: 0, test: 0)
        try Converter(config: config).run()
        let store = try SampleStore(folder: config.output)
        let shard = try XCTUnwrap(store.shards(.train).first)
        let ours = try allSamples(store, .train)[0]
        let script = """
        import xarray as xr, numpy as np
        ds = xr.open_dataset('\(config.output)/\(shard.path)')
        d = ds['data'].values
        print(d.shape, ds['valid_time'].values.dtype, float(np.nansum(d[0])))
        """
        let (status, output) = try Python.run(script)
        XCTAssertEqual(status, 0)
        XCTAssertTrue(output.hasPrefix("(\(shard.samples), 5, 24, 24) datetime64"), output)
        let theirSum = Double(output.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? .nan
        let ourSum = ours.filter { !$0.isNaN }.reduce(0.0) { $0 + Double($1) }
        XCTAssertEqual(theirSum, ourSum, accuracy: 1e-3 * max(1, abs(ourSum)))
    }
}
