import Foundation

/// Valid times written as attribute values, as archives without a time coordinate carry them:
/// ISO 8601 text in its extended or basic form (or text in a layout given as a `TimePattern`),
/// `YYYYmmddHHMMSS` digits, or a number of seconds since 1970.
public enum AttributeTime {
    /// The global attributes CF and ACDD define for the time of a whole file, in the order they are
    /// taken for the valid time. `date_created` is the last resort: it is when the file was made,
    /// which is after the valid time (a warning says so when it is used).
    public static let globalNames = ["time_coverage_end", "nominal_product_time", "time_coverage_start", "date_created"]

    /// The date an attribute value stands for, or nil when it is not one.
    public static func date(_ value: AttributeValue, format: TimePattern?) -> Date? {
        switch value {
        case let .numbers(_, numbers):
            guard numbers.count == 1, let seconds = numbers.first, seconds.isFinite, abs(seconds) < 1e11 else { return nil }
            return Date(timeIntervalSince1970: seconds)
        case .text, .texts:
            let text = value.stringValue ?? ""
            if let format { return format.firstDate(in: text) }
            return UTCTime.parse(text) ?? Self.digits?.firstDate(in: text)
        }
    }

    private static let digits = try? TimePattern("%Y%m%d%H%M%S")

    /// What a time attribute value may look like, for messages.
    static func expectedForm(_ format: TimePattern?) -> String {
        format.map { "text in the layout '\($0)'" } ?? "ISO 8601 text, YYYYmmddHHMMSS digits or seconds since 1970"
    }
}
