import Foundation
import NowcastIO

/// A sample store on disk: its manifest and its shards, read one sample (one chunk) at a time.
public final class SampleStore {
    /// The store folder.
    public let folder: String
    /// The manifest.
    public let manifest: Manifest

    /// Opens a store; throws when the folder holds no manifest.
    public init(folder: String) throws {
        self.folder = folder
        manifest = try Manifest.load(from: folder)
    }

    /// Shards of a split, in order.
    public func shards(_ split: Split) -> [Manifest.Shard] { manifest.shards[split.rawValue] ?? [] }

    /// Samples in a split.
    public func sampleCount(_ split: Split) -> Int { shards(split).reduce(0) { $0 + $1.samples } }

    /// Opens one shard for reading.
    public func open(_ shard: Manifest.Shard) throws -> ShardReader {
        try ShardReader(path: (folder as NSString).appendingPathComponent(shard.path), layout: manifest.layout)
    }
}

/// Reads the samples of one shard: values decoded from int16 where packed, NaN for missing.
public final class ShardReader {
    /// Samples in the shard.
    public let count: Int
    /// The sample layout.
    public let layout: SampleLayout
    private let file: NetCDFFile
    private let data: VariableUnitReader
    private let times: NetCDFVariable

    init(path: String, layout: SampleLayout) throws {
        file = try NetCDFFile(path: path)
        self.layout = layout
        let variable = try file.variable("data")
        guard variable.shape.count == 4, Array(variable.shape.dropFirst()) == [layout.length, layout.ny, layout.nx], let type = variable.type else {
            throw NowcastIOError.unexpectedShape(path: path, variable: "data", expected: "(sample, \(layout.length), \(layout.ny), \(layout.nx))",
                                                 found: "shape \(variable.shape)")
        }
        count = variable.shape[0]
        data = VariableUnitReader(variable: variable, unitAxis: 0,
                                  packing: try CFPacking(attributes: variable.attributes, storedType: type, path: path, variable: "data"))
        times = try file.variable("valid_time")
    }

    /// Reads samples `range` into `buffer`, `layout.sampleValues` each, decoding in parallel.
    public func read(_ range: Range<Int>, into buffer: UnsafeMutableBufferPointer<Float>, threads: Int = 2) throws {
        try data.read(range, into: buffer, threads: threads)
    }

    /// Valid times of sample `index`'s frames.
    public func validTimes(_ index: Int) throws -> [Date] {
        var seconds = [Double](repeating: 0, count: layout.length)
        try seconds.withUnsafeMutableBufferPointer { try times.read(into: $0, start: [index, 0], count: [1, layout.length]) }
        return seconds.map { Date(timeIntervalSince1970: $0) }
    }
}
