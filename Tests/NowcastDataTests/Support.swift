import Foundation
import NowcastData
import NowcastIO
import XCTest

/// A conversion config over `inputs` into `output` with small shards.
func smallConfig(_ inputs: [String], output: String) -> ConvertConfig {
    var config = ConvertConfig()
    config.inputs = inputs
    config.output = output
    config.transforms = ["dbr:0.1:-15", "zscore"]
    config.window = WindowSpec(inputs: 3, targets: 2, stride: 1, patchSize: 24, patchStride: 24)
    config.filters = WindowFilters(maxMissingFraction: 0.05, minWetFraction: 0.02, wetThreshold: 0.1)
    config.split = SplitSpec(blockHours: 3, validation: 0.3, test: 0.2, seed: 1)
    config.shardSize = 10
    return config
}

/// Every sample of a split, decoded, in store order.
func allSamples(_ store: SampleStore, _ split: Split) throws -> [[Float]] {
    var result: [[Float]] = []
    let size = store.manifest.layout.sampleValues
    for shard in store.shards(split) {
        let reader = try store.open(shard)
        var values = [Float](repeating: 0, count: reader.count * size)
        try values.withUnsafeMutableBufferPointer { try reader.read(0..<reader.count, into: $0) }
        for k in 0..<reader.count { result.append(Array(values[(k * size)..<((k + 1) * size)])) }
    }
    return result
}

/// A CF NetCDF archive of the given float32 fields (one file per frame, `ny` x `nx`, every `step`
/// minutes from 2024-06-01), with `_FillValue` -9999: for values no generator makes (infinities,
/// negative rates).
@discardableResult
func valueArchive(_ folder: String, frames: [[Float]], ny: Int, nx: Int, step: Double = 10) throws -> [String] {
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    return try frames.enumerated().map { index, values in
        let path = folder + String(format: "/values_%03d.nc", index)
        let writer = try NetCDFWriter(path: path)
        try writer.addDimension("time", length: 1)
        try writer.addDimension("y", length: ny)
        try writer.addDimension("x", length: nx)
        try writer.addVariable("time", type: .float64, dimensions: ["time"], attributes: Attributes([
            ("units", .text("minutes since 2024-06-01 00:00:00")), ("standard_name", .text("time")),
        ]))
        try writer.addVariable("rain", type: .float32, dimensions: ["time", "y", "x"],
                               attributes: Attributes([("units", .text("mm h-1")), ("_FillValue", .numbers(.float32, [-9999]))]))
        try writer.write("time", [Double(index) * step])
        try writer.write("rain", values)
        try writer.finish()
        return path
    }
}
