import Foundation
import NowcastCore
@testable import NowcastIO
import XCTest
import NowcastTestSupport

/// Direct chunk decoding (libdeflate, in parallel) against the netCDF library path, bit for bit.
final class DirectChunkTests: XCTestCase {
    private func bits(_ file: CFFieldFile, direct: Bool, parallel: Bool = false) throws -> [UInt32] {
        file.directChunkReads = direct
        let size = file.grid.ny * file.grid.nx
        var values = [Float](repeating: -7, count: size * file.frameCount)
        try values.withUnsafeMutableBufferPointer { buffer in
            if parallel {
                try file.readFrames(0..<file.frameCount, into: buffer, threads: 3)
            } else {
                for i in 0..<file.frameCount {
                    try file.readFrame(i, into: UnsafeMutableBufferPointer(rebasing: buffer[(i * size)..<((i + 1) * size)]))
                }
            }
        }
        return values.map(\.bitPattern)
    }

    private func assertPathsAgree(_ path: String, variable: String? = nil, expectDirect: Bool = true,
                                  file: StaticString = #filePath, line: UInt = #line) throws {
        let reader = try CFFieldFile(path: path, options: FieldReadOptions(variable: variable))
        XCTAssertEqual(reader.supportsDirectChunkReads, expectDirect, file: file, line: line)
        let reference = try bits(reader, direct: false)
        XCTAssertEqual(try bits(reader, direct: true), reference, "direct, frame by frame", file: file, line: line)
        XCTAssertEqual(try bits(reader, direct: true, parallel: true), reference, "direct, in parallel", file: file, line: line)
    }

    /// Writes a (time, y, x) variable one frame per chunk.
    private func writeSeries<T: NetCDFElement>(_ path: String, type: ScalarType, values: [T], frames: Int, ny: Int, nx: Int,
                                               storage: NetCDFWriter.Storage, attributes: Attributes = Attributes(),
                                               writtenFrames: Int? = nil) throws {
        let writer = try NetCDFWriter(path: path)
        try writer.addDimension("time", length: nil)
        try writer.addDimension("y", length: ny)
        try writer.addDimension("x", length: nx)
        try writer.addVariable("time", type: .int32, dimensions: ["time"], attributes: Attributes([("units", .text("minutes since 2024-01-01"))]))
        try writer.addVariable("rain", type: type, dimensions: ["time", "y", "x"], storage: storage, attributes: attributes)
        try writer.write("time", (0..<Int32(frames)).map { $0 * 5 }, start: [0], count: [frames])
        let written = writtenFrames ?? frames
        // Frames past `written` are never written: their chunks do not exist and hold the fill value.
        try writer.write("rain", Array(values.prefix(written * ny * nx)), start: [0, 0, 0], count: [written, ny, nx])
        try writer.finish()
    }

    func testFloatWithShuffleAndDeflate() throws {
        let path = try temporaryFolder(self) + "/float.nc"
        var random = SeededGenerator(seed: 1)
        let values = (0..<(5 * 33 * 47)).map { _ in Float(max(0, random.gaussian() * 4)) }
        try writeSeries(path, type: .float32, values: values, frames: 5, ny: 33, nx: 47,
                        storage: .init(chunks: [1, 33, 47], deflateLevel: 4, shuffle: true))
        try assertPathsAgree(path)
        XCTAssertEqual(try CFFieldFile(path: path).readFrame(4).values.map(\.bitPattern), values.suffix(33 * 47).map(\.bitPattern))
    }

    func testPackedShortsWithFillAndNoShuffle() throws {
        let folder = try temporaryFolder(self)
        let values: [Int16] = (0..<(4 * 20 * 30)).map { (i: Int) -> Int16 in Int16((i * 37) % 3000) - 1 }
        let attributes = Attributes([("scale_factor", .double(0.01)), ("_FillValue", .numbers(.int16, [-1]))])
        try writeSeries(folder + "/shuffled.nc", type: .int16, values: values, frames: 4, ny: 20, nx: 30,
                        storage: .init(chunks: [1, 20, 30], deflateLevel: 1, shuffle: true), attributes: attributes)
        try writeSeries(folder + "/plain.nc", type: .int16, values: values, frames: 4, ny: 20, nx: 30,
                        storage: .init(chunks: [1, 20, 30], deflateLevel: 9, shuffle: false), attributes: attributes)
        try assertPathsAgree(folder + "/shuffled.nc")
        try assertPathsAgree(folder + "/plain.nc")
        let frame = try CFFieldFile(path: folder + "/plain.nc").readFrame(0)
        XCTAssertTrue(frame.values[0].isNaN)
        XCTAssertEqual(frame.values[1], Float(36 * 0.01))
    }

    func testUnsignedBytesAndUnwrittenChunks() throws {
        let path = try temporaryFolder(self) + "/bytes.nc"
        let values: [Int8] = (0..<(6 * 8 * 8)).map { (i: Int) -> Int8 in Int8(truncatingIfNeeded: i * 7) }
        try writeSeries(path, type: .int8, values: values, frames: 6, ny: 8, nx: 8,
                        storage: .init(chunks: [1, 8, 8], deflateLevel: 2, shuffle: true),
                        attributes: Attributes([("_Unsigned", .text("true"))]), writtenFrames: 4)
        try assertPathsAgree(path)
        XCTAssertEqual(try CFFieldFile(path: path).readFrame(0).values[20], Float(UInt8(truncatingIfNeeded: 140)))
    }

    func testLayoutsItDoesNotHandleFallBackToTheLibrary() throws {
        let folder = try temporaryFolder(self)
        let values = (0..<(2 * 8 * 8)).map { Float($0) }
        // Two frames per chunk: the library path reads them.
        try writeSeries(folder + "/wide.nc", type: .float32, values: values, frames: 2, ny: 8, nx: 8,
                        storage: .init(chunks: [2, 4, 8], deflateLevel: 1))
        try assertPathsAgree(folder + "/wide.nc", expectDirect: false)
        // Unlimited time without filters: netCDF's default chunks are one frame each, read directly.
        try writeSeries(folder + "/unfiltered.nc", type: .float32, values: values, frames: 2, ny: 8, nx: 8, storage: .plain)
        try assertPathsAgree(folder + "/unfiltered.nc", expectDirect: true)
        // A fixed time dimension without chunking is contiguous: the library path.
        let writer = try NetCDFWriter(path: folder + "/contiguous.nc")
        try writer.addDimension("time", length: 2)
        try writer.addDimension("y", length: 8)
        try writer.addDimension("x", length: 8)
        try writer.addVariable("time", type: .int32, dimensions: ["time"], attributes: Attributes([("units", .text("minutes since 2024-01-01"))]))
        try writer.addVariable("rain", type: .float32, dimensions: ["time", "y", "x"])
        try writer.write("time", [Int32(0), 5])
        try writer.write("rain", values)
        try writer.finish()
        try assertPathsAgree(folder + "/contiguous.nc", expectDirect: false)
        XCTAssertEqual(try CFFieldFile(path: folder + "/wide.nc").readFrame(1).values, Array(values[64...]))
    }

    func testFastUnshuffleMatchesTheReference() {
        var random = SeededGenerator(seed: 4)
        for elementSize in [1, 2, 4, 8, 3] {
            for count in [0, 1, 7, 64] {
                let length = count * elementSize + (elementSize > 1 ? 1 : 0)  // a stray trailing byte too
                let input = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                var fast = [UInt8](repeating: 0, count: length), reference = fast
                input.withUnsafeBytes { source in
                    fast.withUnsafeMutableBytes { ChunkCodec.unshuffle(source, into: $0, elementSize: elementSize) }
                    reference.withUnsafeMutableBytes { ChunkCodec.unshuffleReference(source, into: $0, elementSize: elementSize) }
                }
                XCTAssertEqual(fast, reference, "element size \(elementSize), \(count) elements")
            }
        }
    }

    func testACorruptChunkIsAnErrorNamingTheFile() throws {
        let folder = try temporaryFolder(self)
        let path = folder + "/corrupt.nc"
        var random = SeededGenerator(seed: 2)
        try writeSeries(path, type: .float32, values: (0..<(2 * 64 * 64)).map { _ in Float(random.uniform()) }, frames: 2, ny: 64, nx: 64,
                        storage: .init(chunks: [1, 64, 64], deflateLevel: 4))
        // Flip bytes in the middle of the file, where compressed data lives.
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        for i in stride(from: data.count / 2, to: data.count / 2 + 200, by: 1) { data[i] ^= 0x5A }
        try data.write(to: URL(fileURLWithPath: path))
        let reader = try CFFieldFile(path: path)
        var failures = 0
        for direct in [true, false] {
            reader.directChunkReads = direct
            for i in 0..<2 {
                do { _ = try reader.readFrame(i) } catch let error as NowcastIOError {
                    failures += 1
                    XCTAssertTrue(error.description.contains("corrupt.nc"), error.description)
                }
            }
        }
        XCTAssertGreaterThanOrEqual(failures, 2, "the damaged frame fails on both paths")
    }

    func testShuffleIsTheInverseOfUnshuffle() {
        var random = SeededGenerator(seed: 6)
        for elementSize in [1, 2, 4, 8] {
            let input = (0..<(elementSize * 37 + 1)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            var shuffled = [UInt8](repeating: 0, count: input.count), restored = shuffled
            input.withUnsafeBytes { source in shuffled.withUnsafeMutableBytes { ChunkCodec.shuffle(source, into: $0, elementSize: elementSize) } }
            shuffled.withUnsafeBytes { source in restored.withUnsafeMutableBytes { ChunkCodec.unshuffle(source, into: $0, elementSize: elementSize) } }
            XCTAssertEqual(restored, input)
            if elementSize > 1 { XCTAssertNotEqual(shuffled, input) }
        }
    }

    func testSpooledChunksReadBackThroughTheLibraryAndTheDirectPath() throws {
        let path = try temporaryFolder(self) + "/spooled.nc"
        var random = SeededGenerator(seed: 12)
        let units = (0..<5).map { _ in (0..<(3 * 10 * 12)).map { i -> Float in i % 17 == 0 ? .nan : Float(random.gaussian()) } }
        let writer = try NetCDFWriter(path: path)
        try writer.addDimension("sample", length: nil)
        try writer.addDimension("time", length: 3)
        try writer.addDimension("y", length: 10)
        try writer.addDimension("x", length: 12)
        try writer.addVariable("data", type: .float32, dimensions: ["sample", "time", "y", "x"],
                               storage: .init(chunks: [1, 3, 10, 12], deflateLevel: 1, shuffle: true))
        try writer.addVariable("index", type: .int32, dimensions: ["sample"])
        try writer.write("index", (0..<Int32(units.count)).map { $0 }, start: [0], count: [units.count])
        let spool = try ChunkSpool(beside: path, unitValues: 3 * 10 * 12, elementSize: 4, deflateLevel: 1)
        for unit in units { try unit.withUnsafeBytes { try spool.append($0) } }
        try writer.finish { try spool.write(into: $0, variable: "data") }

        let variable = try NetCDFFile(path: path).variable("data")
        XCTAssertEqual(variable.shape, [5, 3, 10, 12])
        let reader = VariableUnitReader(variable: variable, unitAxis: 0,
                                        packing: try CFPacking(attributes: variable.attributes, storedType: .float32, path: path, variable: "data"))
        XCTAssertTrue(reader.supportsDirectChunkReads)
        for direct in [false, true] {
            reader.directChunkReads = direct
            for (index, unit) in units.enumerated() {
                var values = [Float](repeating: 0, count: unit.count)
                try values.withUnsafeMutableBufferPointer { try reader.read(index, into: $0) }
                XCTAssertEqual(values.map(\.bitPattern), unit.map(\.bitPattern), "unit \(index), direct \(direct)")
            }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: (path as NSString).deletingLastPathComponent), ["spooled.nc"],
                       "the side file is gone")
    }
}
