import Foundation
import NowcastCore
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

    /// Opens every shard of `split` and reads its last sample, so that a missing, truncated or
    /// damaged shard is found before hours of work rather than when the stream reaches it: the
    /// sample count must be the manifest's, the values finite or missing.
    public func verify(_ split: Split) throws {
        var last = [Float](repeating: 0, count: manifest.layout.sampleValues)
        for shard in shards(split) {
            let path = (folder as NSString).appendingPathComponent(shard.path)
            let reader: ShardReader
            do { reader = try open(shard) } catch {
                throw NowcastDataError.store(path: path, detail: "a shard of the \(split.rawValue) split cannot be read (\(oneLine(error)))")
            }
            guard reader.count == shard.samples, shard.samples > 0 else {
                throw NowcastDataError.store(path: path, detail: "holds \(reader.count) samples; the manifest says \(shard.samples)")
            }
            do { try last.withUnsafeMutableBufferPointer { try reader.read((reader.count - 1)..<reader.count, into: $0, threads: 1) } } catch {
                throw NowcastDataError.store(path: path, detail: "its last sample cannot be read (\(oneLine(error)))")
            }
            guard !last.contains(where: \.isInfinite) else {
                throw NowcastDataError.store(path: path, detail: "its last sample holds infinite values")
            }
        }
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
        var packing = try CFPacking(attributes: variable.attributes, storedType: type, path: path, variable: "data")
        // NaN is a shard's missing value (stores written before `_FillValue = NaN` say so only here).
        if !packing.missingValues.contains(where: \.isNaN) { packing.missingValues.append(.nan) }
        data = VariableUnitReader(variable: variable, unitAxis: 0, packing: packing)
        times = try file.variable("valid_time")
        self.path = path
    }

    /// The shard's path.
    public let path: String

    /// Reads samples `range` into `buffer`, `layout.sampleValues` each, decoding in parallel. A
    /// sample holding an infinity (a damaged or foreign shard) is an error naming it.
    public func read(_ range: Range<Int>, into buffer: UnsafeMutableBufferPointer<Float>, threads: Int = 2) throws {
        guard try data.read(range, into: buffer, threads: threads) > 0 else { return }
        // Rare: find the sample, one at a time.
        let size = layout.sampleValues
        let bad = range.first { index in
            let start = (index - range.lowerBound) * size
            return ((try? data.read(index, into: UnsafeMutableBufferPointer(rebasing: buffer[start..<(start + size)]))) ?? 1) > 0
        } ?? range.lowerBound
        throw NowcastDataError.store(path: path, detail: "sample \(bad) holds values that are not finite; convert the archive again")
    }

    /// Valid times of sample `index`'s frames.
    public func validTimes(_ index: Int) throws -> [Date] {
        var seconds = [Double](repeating: 0, count: layout.length)
        try seconds.withUnsafeMutableBufferPointer { try times.read(into: $0, start: [index, 0], count: [1, layout.length]) }
        return seconds.map { Date(timeIntervalSince1970: $0) }
    }
}
