import Foundation
import NowcastCore

/// Weight files in the safetensors format: an 8-byte little-endian header length, a JSON header
/// (`{"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {...}}`),
/// then the raw little-endian tensors. Loadable by Python's `safetensors.numpy.load_file`.
public enum SafeTensors {
    /// A file that is not valid safetensors, or holds what this reader does not take.
    public struct FormatError: Error, CustomStringConvertible {
        public let path: String
        public let detail: String
        public var description: String { "\(path): not a readable safetensors file (\(detail))" }
    }

    /// Writes tensors (names must be unique) and string metadata atomically: a temporary file in the
    /// same folder, renamed into place.
    public static func write(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:], to path: String) throws {
        var header: [String: Any] = [:]
        var offset = 0
        for (name, tensor) in tensors {
            guard header[name] == nil, name != "__metadata__" else { throw FormatError(path: path, detail: "duplicate or reserved name '\(name)'") }
            header[name] = ["dtype": "F32", "shape": tensor.shape, "data_offsets": [offset, offset + tensor.count * 4]]
            offset += tensor.count * 4
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad the header with spaces so that the data starts 8-byte aligned.
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
        var file = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(json)
        for (_, tensor) in tensors { tensor.withUnsafeBufferPointer { file.append(Data(buffer: $0)) } }
        try AtomicOutput.write(file, to: path)
    }

    /// Reads every tensor (F32 only) and the metadata.
    public static func read(_ path: String) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        guard let data = FileManager.default.contents(atPath: path) else { throw FormatError(path: path, detail: "no such file") }
        guard data.count >= 8 else { throw FormatError(path: path, detail: "shorter than its 8-byte header length") }
        let length = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard length <= UInt64(data.count - 8) else { throw FormatError(path: path, detail: "header length \(length) beyond the file") }
        let start = 8 + Int(length)
        guard let header = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<start)) as? [String: Any] else {
            throw FormatError(path: path, detail: "the header is not a JSON object")
        }
        var tensors: [String: Tensor] = [:]
        var metadata: [String: String] = [:]
        for (name, entry) in header {
            if name == "__metadata__" {
                metadata = (entry as? [String: String]) ?? [:]
                continue
            }
            guard let info = entry as? [String: Any], let dtype = info["dtype"] as? String, let shape = info["shape"] as? [Int],
                  let offsets = info["data_offsets"] as? [Int], offsets.count == 2 else {
                throw FormatError(path: path, detail: "entry '\(name)' lacks dtype, shape or data_offsets")
            }
            guard dtype == "F32" else { throw FormatError(path: path, detail: "tensor '\(name)' is \(dtype); only F32 is read") }
            // Sizes come from the file: checked for negative values and overflow before any use.
            let count = shape.reduce(Optional(1)) { total, length in
                guard let total, length >= 0 else { return nil }
                let (product, overflow) = total.multipliedReportingOverflow(by: length)
                return overflow ? nil : product
            }
            guard let count, count <= (data.count - start) / 4, offsets[0] >= 0, offsets[1] >= offsets[0],
                  offsets[1] <= data.count - start, offsets[1] - offsets[0] == count * 4 else {
                throw FormatError(path: path, detail: "tensor '\(name)': data_offsets \(offsets) do not fit shape \(shape) or the file")
            }
            var values = [Float](repeating: 0, count: count)
            values.withUnsafeMutableBytes { _ = data.copyBytes(to: $0, from: (start + offsets[0])..<(start + offsets[1])) }
            tensors[name] = try Tensor(shape: shape, values: values.map { Float(bitPattern: UInt32(littleEndian: $0.bitPattern)) })
        }
        return (tensors, metadata)
    }
}
