import Foundation
import NowcastData
import NowcastIO

/// The observations a forecast starts from: the `count` consecutive frames of an archive that end
/// at the reference time (the latest frame, or the one asked for), read through the same readers and
/// `FrameSeries` as `convert`.
public struct ForecastInputs {
    public let frames: [Frame]
    public let series: FrameSeries

    /// The time of the newest frame.
    public var referenceTime: Date { frames[frames.count - 1].validTime }

    /// Reads the frames ending at `time` (nil: the archive's last frame). A time the archive does
    /// not hold, too few frames before it, or a missing step among them is an error naming the time.
    public init(series: FrameSeries, count: Int, time: Date?) throws {
        self.series = series
        let last: Int
        if let time {
            guard let index = series.entries.firstIndex(where: { abs($0.validTime.timeIntervalSince(time)) < 0.5 }) else {
                let span = "\(UTCTime.iso8601(series.entries[0].validTime)) to \(UTCTime.iso8601(series.entries[series.count - 1].validTime))"
                throw ForecastError.archive(detail: "no frame valid at \(UTCTime.iso8601(time)) among the \(series.count) frames from \(span)")
            }
            last = index
        } else {
            last = series.count - 1
        }
        let end = series.entries[last].validTime
        guard series.step > 0 || count == 1 else {
            throw ForecastError.archive(detail: "one frame (\(UTCTime.iso8601(end))) gives no time step; the forecast needs \(count) consecutive frames")
        }
        // Walk back one step at a time: each expected time must be the previous entry's.
        var indices = [last]
        for k in 1..<max(1, count) {
            let expected = end.addingTimeInterval(-Double(k) * series.step)
            let previous = indices[indices.count - 1] - 1
            guard previous >= 0 else {
                throw ForecastError.archive(detail: "\(count) consecutive frames end at \(UTCTime.iso8601(end)), but the archive starts at "
                    + "\(UTCTime.iso8601(series.entries[0].validTime)) (\(k) frame\(k == 1 ? "" : "s") up to then)")
            }
            guard abs(series.entries[previous].validTime.timeIntervalSince(expected)) < 0.5 else {
                throw ForecastError.archive(detail: "the frame valid at \(UTCTime.iso8601(expected)) is missing (the \(count) frames ending at "
                    + "\(UTCTime.iso8601(end)) must follow each other every \(Int(series.step)) s)")
            }
            indices.append(previous)
        }
        frames = try indices.reversed().map { try series.frame($0) }
        if frames.allSatisfy({ $0.values.allSatisfy(\.isNaN) }) {
            throw ForecastError.archive(detail: "every value of the \(count) input frames ending at \(UTCTime.iso8601(end)) is missing "
                + "(first file \(frames[0].sourcePath))")
        }
    }
}
