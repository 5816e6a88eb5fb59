import Foundation

/// Everything that can go wrong training a model (reading a trained one back is `ModelError`'s).
/// Each case names the setting, folder or file involved and what was expected.
public enum TrainError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// A training setting (a config key, or the flag of the same name) cannot take its value.
    case invalidSetting(key: String, expected: String, found: String)
    /// The sample store cannot be trained on.
    case store(path: String, detail: String)
    /// The run folder cannot take this run, or holds nothing to resume.
    case runFolder(path: String, detail: String)
    /// A checkpoint cannot be read back.
    case checkpoint(path: String, detail: String)
    /// A loss, gradient norm or weight stopped being finite: the run stops; the checkpoints written
    /// so far stay (the last one with finite weights is named).
    case nonFinite(member: Int, step: Int, quantity: String, lastCheckpoint: String?)
    /// A batch holds a value the model cannot take (NaN or infinity after the missing fill);
    /// `sample` names the shard and the sample.
    case nonFiniteBatch(shard: String, detail: String)

    public var description: String {
        switch self {
        case let .invalidSetting(key, expected, found): return "\(key): expected \(expected), got \(found)"
        case let .store(path, detail): return "store '\(path)': \(detail)"
        case let .runFolder(path, detail): return "run folder '\(path)': \(detail)"
        case let .checkpoint(path, detail): return "checkpoint \(path): \(detail)"
        case let .nonFinite(member, step, quantity, lastCheckpoint):
            return "member \(member), step \(step): the \(quantity) is not finite (NaN or infinite); training stopped. "
                + (lastCheckpoint.map { "The last good checkpoint is \($0)." } ?? "No checkpoint had been written.")
                + " Lower optimizer.learning_rate or set clip_norm."
        case let .nonFiniteBatch(sample, detail): return "\(sample): \(detail)"
        }
    }

    public var errorDescription: String? { description }
}
