import Foundation
import NowcastCore

/// The run log, `log.jsonl`: one JSON object per line (training lines with step, loss, learning
/// rate and samples/s; validation lines with the scores of the model and of persistence). A resumed
/// run first drops the lines written after its checkpoint, and any half-written last line.
final class RunLog {
    let path: String
    private let file: OutputFile
    /// (step, loss) of the training lines, for the plot (thinned to stay bounded).
    private(set) var trainingLoss: [(step: Int, loss: Double)] = []
    /// (step, model loss, persistence loss) of the validation lines.
    private(set) var validationLoss: [(step: Int, model: Double, persistence: Double)] = []

    /// Opens the log; with `keepingThrough` (a resumed run), lines up to that step are kept and
    /// the rest dropped; otherwise the log starts empty.
    init(path: String, keepingThrough step: Int?) throws {
        self.path = path
        var kept = Data()
        var objects: [[String: Any]] = []
        if let step, let old = FileManager.default.contents(atPath: path) {
            for line in old.split(separator: UInt8(ascii: "\n")) {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                      let lineStep = object["step"] as? Int, lineStep <= step else { continue }
                kept.append(contentsOf: line)
                kept.append(UInt8(ascii: "\n"))
                objects.append(object)
            }
        }
        try AtomicOutput.write(kept, to: path)
        file = try OutputFile(path, mode: .append)
        objects.forEach(remember)
    }

    /// Appends one record (NaN and infinite numbers are written as null).
    func append(_ record: [String: Any]) throws {
        let clean = sanitize(record)
        var data = try JSONSerialization.data(withJSONObject: clean, options: [.sortedKeys])
        data.append(UInt8(ascii: "\n"))
        try file.write(data)
        if let object = clean as? [String: Any] { remember(object) }
    }

    private func remember(_ object: [String: Any]) {
        guard let step = object["step"] as? Int else { return }
        switch object["event"] as? String {
        case "train":
            guard let loss = object["loss"] as? Double else { return }
            trainingLoss.append((step, loss))
            if trainingLoss.count > 4000 { trainingLoss = stride(from: 0, to: trainingLoss.count, by: 2).map { trainingLoss[$0] } }
        case "validation":
            guard let model = object["loss"] as? Double, let persistence = object["persistence_loss"] as? Double else { return }
            validationLoss.append((step, model, persistence))
        default:
            return
        }
    }

    private func sanitize(_ value: Any) -> Any {
        switch value {
        case let d as Double: return d.isFinite ? d : NSNull()
        case let f as Float: return f.isFinite ? Double(f) : NSNull()
        case let dictionary as [String: Any]: return dictionary.mapValues(sanitize)
        case let array as [Any]: return array.map(sanitize)
        default: return value
        }
    }
}
