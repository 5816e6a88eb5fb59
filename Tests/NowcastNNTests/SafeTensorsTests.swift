import Foundation
import NowcastCore
import NowcastNN
import NowcastTestSupport
import XCTest

final class SafeTensorsTests: XCTestCase {
    private func folder() throws -> String { try temporaryFolder(self, prefix: "nowcast-nn") }

    func testRoundTripAndAPythonRead() throws {
        var random = SeededGenerator(seed: 2)
        let weights = Initializer.heNormal([4, 2, 3, 3], fanIn: 18, using: &random)
        let bias = try Tensor(shape: [4], values: [0.5, -1, .infinity, 0])
        let path = try folder() + "/model.safetensors"
        try SafeTensors.write([("encoder.conv1.weight", weights), ("encoder.conv1.bias", bias)],
                              metadata: ["model": "{\"kind\": \"convlstm\"}"], to: path)
        let (tensors, metadata) = try SafeTensors.read(path)
        XCTAssertEqual(tensors["encoder.conv1.weight"]?.shape, [4, 2, 3, 3])
        XCTAssertEqual(tensors["encoder.conv1.weight"]?.scalars.map(\.bitPattern), weights.scalars.map(\.bitPattern))
        XCTAssertEqual(tensors["encoder.conv1.bias"]?.scalars, bias.scalars)
        XCTAssertEqual(metadata["model"], "{\"kind\": \"convlstm\"}")

        try Python.require(["safetensors.numpy", "numpy"])
        let (status, output) = try Python.run("""
        from safetensors.numpy import load_file
        d = load_file('\(path)')
        w = d['encoder.conv1.weight']
        print(w.dtype, list(w.shape), repr(float(w.sum())), d['encoder.conv1.bias'].tolist())
        """)
        XCTAssertEqual(status, 0)
        XCTAssertTrue(output.hasPrefix("float32 [4, 2, 3, 3]"), output)
        XCTAssertTrue(output.contains("[0.5, -1.0, inf, 0.0]"), output)
        let theirSum = Double(output.split(separator: " ")[5]) ?? .nan
        XCTAssertEqual(theirSum, weights.scalars.reduce(0.0) { $0 + Double($1) }, accuracy: 1e-4)
    }

    func testDamagedFilesAreClearErrors() throws {
        let dir = try folder()
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: dir + "/short.safetensors"))
        XCTAssertThrowsError(try SafeTensors.read(dir + "/short.safetensors")) { XCTAssertTrue("\($0)".contains("short.safetensors")) }
        var bad = Data()
        withUnsafeBytes(of: UInt64(2).littleEndian) { bad.append(contentsOf: $0) }
        bad.append(Data("{}".utf8))
        try bad.write(to: URL(fileURLWithPath: dir + "/empty.safetensors"))
        XCTAssertEqual(try SafeTensors.read(dir + "/empty.safetensors").tensors.count, 0)
        var wrong = Data()
        let header = Data("{\"w\": {\"dtype\": \"F16\", \"shape\": [1], \"data_offsets\": [0, 2]}}".utf8)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { wrong.append(contentsOf: $0) }
        wrong.append(header)
        wrong.append(Data([0, 0]))
        try wrong.write(to: URL(fileURLWithPath: dir + "/half.safetensors"))
        XCTAssertThrowsError(try SafeTensors.read(dir + "/half.safetensors")) { XCTAssertTrue("\($0)".contains("F16")) }
        // Headers that would make a careless reader allocate a negative or enormous array, or read
        // past the end: each one a clear error.
        for (n, entry) in [#"{"dtype": "F32", "shape": [-1], "data_offsets": [4, 0]}"#,
                           #"{"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 0]}"#,
                           #"{"dtype": "F32", "shape": [2], "data_offsets": [0, 9223372036854775800]}"#,
                           #"{"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}"#].enumerated() {
            var hostile = Data()
            let header = Data("{\"w\": \(entry)}".utf8)
            withUnsafeBytes(of: UInt64(header.count).littleEndian) { hostile.append(contentsOf: $0) }
            hostile.append(header)
            hostile.append(Data([0, 0, 0, 0]))
            let path = dir + "/hostile\(n).safetensors"
            try hostile.write(to: URL(fileURLWithPath: path))
            XCTAssertThrowsError(try SafeTensors.read(path)) { XCTAssertTrue("\($0)".contains("data_offsets"), "\($0)") }
        }
        XCTAssertThrowsError(try SafeTensors.write([("a", Tensor(shape: [1])), ("a", Tensor(shape: [1]))], to: dir + "/dup.safetensors"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/dup.safetensors"))
    }
}
