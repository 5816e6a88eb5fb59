import Foundation
import NowcastIO

/// The windows of a series before any data is read: start frames with no gap inside, each with its
/// split, and counts of what was left out and why.
public struct WindowPlan: Sendable {
    /// One window: its first frame in the series and its split.
    public struct Window: Equatable, Sendable {
        /// Index of the first frame in the series.
        public var start: Int
        /// The split the window belongs to.
        public var split: Split
    }

    /// Windows in time order.
    public let windows: [Window]
    /// Candidate starts with a gap inside the window.
    public let rejectedForGaps: Int
    /// Candidate starts whose frames span two split blocks.
    public let rejectedForSplitBoundary: Int

    /// Plans windows over `series`; throws when the window is longer than the series.
    public init(series: FrameSeries, spec: WindowSpec, split: SplitSpec) throws {
        try self.init(times: series.entries.map(\.validTime), step: series.step, spec: spec, split: split)
    }

    /// Plans windows over frame times (sorted, unique) with the given step.
    public init(times: [Date], step: TimeInterval, spec: WindowSpec, split: SplitSpec) throws {
        let length = spec.length
        guard times.count >= length else {
            throw NowcastDataError.invalidSetting(key: "window", expected: "a window no longer than the series of \(times.count) frames",
                                                  found: "\(length) frames (\(spec.inputs) + \(spec.targets))")
        }
        var windows: [Window] = []
        var gaps = 0, boundaries = 0
        for start in stride(from: 0, through: times.count - length, by: spec.stride) {
            let last = start + length - 1
            guard times[last].timeIntervalSince(times[start]) == Double(length - 1) * step else { gaps += 1; continue }
            let block = split.block(of: times[start])
            guard split.block(of: times[last]) == block else { boundaries += 1; continue }
            windows.append(Window(start: start, split: split.split(ofBlock: block)))
        }
        self.windows = windows
        rejectedForGaps = gaps
        rejectedForSplitBoundary = boundaries
    }
}
