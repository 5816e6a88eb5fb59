import Foundation
import NowcastCore
import NowcastIO

/// Writes one training shard, NetCDF-4: `data(sample, time, y, x)` (float32, or int16 packed), one
/// sample per chunk, shuffled and deflated; `valid_time(sample, time)`; `patch_y(sample)`,
/// `patch_x(sample)`. Readable by xarray with no help. Samples are compressed on a background queue
/// (libdeflate, beside the producer) into a `ChunkSpool` and written as chunks when the shard
/// closes. The file appears only when `finish()` succeeds.
final class ShardWriter {
    let path: String
    let layout: SampleLayout
    private let writer: NetCDFWriter
    private let spool: ChunkSpool
    private let compression = DispatchQueue(label: "nowcast.shard.compression")
    private let inFlight = DispatchSemaphore(value: 4)
    private let failures = ErrorBox()
    private(set) var samples = 0

    init(path: String, layout: SampleLayout, split: Split, transforms: TransformChain) throws {
        self.path = path
        self.layout = layout
        writer = try NetCDFWriter(path: path)
        try writer.addDimension("sample", length: nil)
        try writer.addDimension("time", length: layout.length)
        try writer.addDimension("y", length: layout.ny)
        try writer.addDimension("x", length: layout.nx)
        var attributes = Attributes([
            ("long_name", .text("transformed field, inputs then targets")),
            ("inputs", .int(layout.inputs)), ("targets", .int(layout.targets)),
            ("transforms", .text((try? transforms.json()) ?? "[]")),
        ])
        let type: ScalarType
        if let packing = layout.packing {
            type = .int16
            attributes["scale_factor"] = .double(packing.scale)
            attributes["add_offset"] = .double(packing.offset)
            attributes["_FillValue"] = .numbers(.int16, [-32768])
        } else {
            type = .float32
            attributes["_FillValue"] = .numbers(.float32, [.nan])
        }
        try writer.addVariable("data", type: type, dimensions: ["sample", "time", "y", "x"],
                               storage: .init(chunks: [1, layout.length, layout.ny, layout.nx], deflateLevel: layout.deflateLevel, shuffle: true),
                               attributes: attributes)
        try writer.addVariable("valid_time", type: .int64, dimensions: ["sample", "time"], attributes: Attributes([
            ("standard_name", .text("time")), ("units", .text("seconds since 1970-01-01 00:00:00")), ("calendar", .text("standard")),
        ]))
        try writer.addVariable("patch_y", type: .int32, dimensions: ["sample"], attributes: Attributes([
            ("long_name", .text("row of the patch origin in the (coarsened) source grid")),
        ]))
        try writer.addVariable("patch_x", type: .int32, dimensions: ["sample"], attributes: Attributes([
            ("long_name", .text("column of the patch origin in the (coarsened) source grid")),
        ]))
        try writer.setGlobalAttributes(Attributes([
            ("Conventions", .text("CF-1.8")), ("title", .text("NowcastKit training samples")), ("split", .text(split.rawValue)),
        ]))
        spool = try ChunkSpool(beside: path, unitValues: layout.sampleValues, elementSize: type.byteCount,
                               deflateLevel: max(1, layout.deflateLevel))
    }

    /// Appends one sample: `layout.sampleValues` transformed values, frame after frame.
    func append(_ values: [Float], times: [Date], origin: (y: Int, x: Int)) throws {
        if let error = failures.first { throw error }
        let k = samples
        try writer.write("valid_time", times.map { Int64($0.timeIntervalSince1970.rounded()) }, start: [k, 0], count: [1, layout.length])
        try writer.write("patch_y", [Int32(origin.y)], start: [k], count: [1])
        try writer.write("patch_x", [Int32(origin.x)], start: [k], count: [1])
        samples += 1
        inFlight.wait()
        compression.async { [spool, layout, failures, inFlight] in
            defer { inFlight.signal() }
            do {
                if let packing = layout.packing {
                    let stored = values.map { v -> Int16 in
                        guard !v.isNaN else { return -32768 }
                        let q = ((Double(v) - packing.offset) / packing.scale).rounded()
                        return Int16(max(-32767, min(32767, q)))
                    }
                    try stored.withUnsafeBytes { try spool.append($0) }
                } else {
                    try values.withUnsafeBytes { try spool.append($0) }
                }
            } catch { failures.record(error) }
        }
    }

    func finish() throws {
        compression.sync {}
        if let error = failures.first { throw error }
        try writer.finish { [spool] temporaryPath in try spool.write(into: temporaryPath, variable: "data") }
    }

    /// Abandons the shard once the compression queue has stopped: the spool's side file goes first,
    /// giving back the space the close of the NetCDF file may need.
    func cancel() {
        compression.sync {}
        spool.discard()
        writer.cancel()
    }
}
