import Foundation
import NowcastCore
import Yams

/// Reading YAML or JSON configuration files into `Decodable` structs: unknown keys, wrong types and
/// bad syntax become one `NowcastDataError.configFile` line naming the file and the key.
public enum ConfigFile {
    /// Decodes `text`; `knownKeys` maps a section (`""` for the top level, `"model"` for a nested
    /// mapping) to the keys it may hold. A key that has an entry of its own is a nested section.
    public static func decode<T: Decodable>(_ type: T.Type, from text: String, source: String,
                                           knownKeys: [String: Set<String>]) throws -> T {
        let tree: Any?
        do { tree = try Yams.load(yaml: text) } catch {
            throw NowcastDataError.configFile(path: source, detail: "not valid YAML or JSON (\(oneLine(error)))")
        }
        guard let root = tree as? [String: Any] else {
            throw NowcastDataError.configFile(path: source, detail: "expected a mapping of keys at the top level")
        }
        try checkKeys(root, section: "", source: source, knownKeys: knownKeys)
        do {
            return try YAMLDecoder().decode(T.self, from: text)
        } catch let error as DecodingError {
            throw NowcastDataError.configFile(path: source, detail: describe(error))
        }
    }

    /// Reads and decodes a config file.
    public static func load<T: Decodable>(_ type: T.Type, path: String, knownKeys: [String: Set<String>]) throws -> T {
        guard FileManager.default.fileExists(atPath: path) else { throw NowcastDataError.configFile(path: path, detail: "no such config file") }
        let data = try FileError.wrapping(.read, path) { try Data(contentsOf: URL(fileURLWithPath: path)) }
        return try decode(type, from: String(decoding: data, as: UTF8.self), source: path, knownKeys: knownKeys)
    }

    private static func checkKeys(_ mapping: [String: Any], section: String, source: String, knownKeys: [String: Set<String>]) throws {
        let known = knownKeys[section] ?? []
        for key in mapping.keys.sorted() {
            let path = section.isEmpty ? key : "\(section).\(key)"
            guard known.contains(key) else {
                throw NowcastDataError.configFile(path: source, detail: "unknown key '\(path)'; known keys\(section.isEmpty ? "" : " of '\(section)'"): "
                    + known.sorted().joined(separator: ", "))
            }
            if knownKeys[path] != nil {
                guard let nested = mapping[key] as? [String: Any] else {
                    throw NowcastDataError.configFile(path: source, detail: "key '\(path)' must be a mapping")
                }
                try checkKeys(nested, section: path, source: source, knownKeys: knownKeys)
            }
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map(\.stringValue).filter { !$0.isEmpty }
            return keys.isEmpty ? "the top level" : "key '\(keys.joined(separator: "."))'"
        }
        switch error {
        case let .typeMismatch(type, context): return "\(path(context)): expected \(typeName(type))"
        case let .valueNotFound(type, context): return "\(path(context)): expected \(typeName(type)), found nothing"
        case let .keyNotFound(key, context): return "\(path(context)): missing key '\(key.stringValue)'"
        case let .dataCorrupted(context): return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type, is UInt64.Type: return "a whole number"
        case is Double.Type, is Float.Type: return "a number"
        case is Bool.Type: return "true or false"
        case is String.Type: return "text"
        default: return "\(type)".contains("Array") ? "a list" : "\(type)"
        }
    }
}

/// A config that is read from a YAML or JSON file with its keys checked (`ConvertConfig`,
/// `TrainConfig`, `ForecastConfig`): `load` and `parse` come with it.
public protocol ConfigFileDecodable: Decodable {
    /// The keys a file may hold, per section (`""` for the top level, `"model"` for a nested one).
    static var knownKeys: [String: Set<String>] { get }
}

extension ConfigFileDecodable {
    /// Loads a YAML or JSON config file.
    public static func load(path: String) throws -> Self {
        try ConfigFile.load(Self.self, path: path, knownKeys: knownKeys)
    }

    /// Parses YAML or JSON text; `source` names it in errors.
    public static func parse(_ text: String, source: String) throws -> Self {
        try ConfigFile.decode(Self.self, from: text, source: source, knownKeys: knownKeys)
    }
}
