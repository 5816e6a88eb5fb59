import Foundation

/// Calendar arithmetic in UTC on the proleptic Gregorian calendar, without Foundation's locale- and
/// time-zone-dependent `Calendar`.
public enum UTCTime {
    /// Days since 1970-01-01 of a civil date (proleptic Gregorian; H. Hinnant's algorithm).
    public static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Civil date of a day count since 1970-01-01.
    public static func civil(days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Number of days in a month of the proleptic Gregorian calendar.
    public static func daysInMonth(year: Int, month: Int) -> Int {
        days(year: month == 12 ? year + 1 : year, month: month == 12 ? 1 : month + 1, day: 1)
            - days(year: year, month: month, day: 1)
    }

    /// The date of a civil date and time in UTC, or nil when a field is out of range.
    public static func date(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0,
                            second: Double = 0) -> Date? {
        guard (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month),
              (0...23).contains(hour), (0...59).contains(minute), second >= 0, second < 61
        else { return nil }
        let seconds = Double(days(year: year, month: month, day: day)) * 86_400
            + Double(hour * 3600 + minute * 60) + second
        return Date(timeIntervalSince1970: seconds)
    }

    /// True for dates in the years 1 to 9999: what time values decoded from files must be.
    public static func isRepresentable(_ date: Date) -> Bool {
        let t = date.timeIntervalSince1970
        return t.isFinite && t >= -62_135_596_800 && t < 253_402_300_800
    }

    /// ISO 8601 text in UTC, `2020-10-31T00:10:00Z` (with fractional seconds only when present).
    /// Dates outside the years 1 to 9999 (a garbled time value) print as `invalid time (N s since 1970)`.
    public static func iso8601(_ date: Date) -> String {
        let t = date.timeIntervalSince1970
        guard isRepresentable(date) else { return "invalid time (\(t) s since 1970)" }
        let whole = t.rounded(.down)
        let days = Int((whole / 86_400).rounded(.down))
        let secondOfDay = Int(whole) - days * 86_400
        let (y, m, d) = civil(days: days)
        var text = String(format: "%04d-%02d-%02dT%02d:%02d:%02d", y, m, d,
                          secondOfDay / 3600, secondOfDay / 60 % 60, secondOfDay % 60)
        let fraction = t - whole
        if fraction > 1e-6 { text += String(format: ".%03d", min(999, Int((fraction * 1000).rounded()))) }
        return text + "Z"
    }

    /// Parses ISO 8601 date-times in their extended and basic forms and the variants files use:
    /// `2020-01-01T00:00:00Z`, `1970-01-01 00:00:00 UTC`, `1970-1-1`, `2000-01-01 00:00:00.5 +10:00`,
    /// `2021-07-14T12:00Z`, `20210714T120000Z`, `20210714T1200`, `20210714`. Nil when it is not one.
    public static func parse(_ text: String) -> Date? {
        var rest = text.trimmingCharacters(in: .whitespaces)
        var offsetSeconds = 0.0
        for suffix in [" UTC", "UTC", " GMT", "Z", " Z"] where rest.hasSuffix(suffix) {
            rest = String(rest.dropLast(suffix.count))
            break
        }
        // A trailing numeric offset (+hh:mm, -hhmm, +h) after the time.
        if let signIndex = rest.lastIndex(where: { $0 == "+" || $0 == "-" }),
           rest[..<signIndex].contains(":") || rest[..<signIndex].contains(" ") || rest[..<signIndex].contains("T"),
           rest.distance(from: rest.startIndex, to: signIndex) > 7 {
            let sign: Double = rest[signIndex] == "-" ? -1 : 1
            let digits = rest[rest.index(after: signIndex)...].replacingOccurrences(of: ":", with: "")
                .trimmingCharacters(in: .whitespaces)
            guard digits.count <= 4, digits.allSatisfy(\.isASCII), let value = Int(digits) else { return nil }
            let (h, m) = digits.count <= 2 ? (value, 0) : (value / 100, value % 100)
            guard h <= 14, m < 60 else { return nil }
            offsetSeconds = sign * Double(h * 3600 + m * 60)
            rest = String(rest[..<signIndex]).trimmingCharacters(in: .whitespaces)
        }
        let parts = rest.split(whereSeparator: { $0 == " " || $0 == "T" }).map(String.init)
        guard let datePart = parts.first, parts.count <= 2 else { return nil }
        guard let (year, month, day) = dateFields(datePart) else { return nil }
        var hour = 0, minute = 0, second = 0.0
        if parts.count == 2 {
            guard let fields = timeFields(parts[1]) else { return nil }
            (hour, minute, second) = fields
        }
        guard let local = date(year: year, month: month, day: day, hour: hour, minute: minute, second: second) else {
            return nil
        }
        return local.addingTimeInterval(-offsetSeconds)
    }

    /// `2020-10-31`, `2020-1-1` or the basic `20201031`.
    private static func dateFields(_ text: String) -> (Int, Int, Int)? {
        guard text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "-") }) else { return nil }
        if !text.contains("-") {
            guard text.count == 8, let value = Int(text) else { return nil }
            return (value / 10_000, value / 100 % 100, value % 100)
        }
        let ymd = text.split(separator: "-", omittingEmptySubsequences: false)
        guard ymd.count == 3, ymd.allSatisfy({ (1...4).contains($0.count) }),
              let year = Int(ymd[0]), let month = Int(ymd[1]), let day = Int(ymd[2]) else { return nil }
        return (year, month, day)
    }

    /// `12:00:00.5`, `12:00`, `0:0:0`, or the basic `120000`, `1200`, `120000.5`.
    private static func timeFields(_ text: String) -> (Int, Int, Double)? {
        guard text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ":" || $0 == "." || $0 == ",") }) else { return nil }
        let clean = text.replacingOccurrences(of: ",", with: ".")
        if !clean.contains(":") {
            let whole = clean.split(separator: ".", maxSplits: 1).first.map(String.init) ?? ""
            let fraction = clean.count > whole.count ? Double("0" + clean.dropFirst(whole.count)) ?? 0 : 0
            guard [2, 4, 6].contains(whole.count), let value = Int(whole) else { return nil }
            switch whole.count {
            case 2: return (value, 0, 0)
            case 4: return (value / 100, value % 100, 0)
            default: return (value / 10_000, value / 100 % 100, Double(value % 100) + fraction)
            }
        }
        let hms = clean.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...3).contains(hms.count), hms.allSatisfy({ (1...2).contains($0.split(separator: ".").first?.count ?? 0) }),
              let hour = Int(hms[0]) else { return nil }
        var minute = 0, second = 0.0
        if hms.count > 1 { guard let m = Int(hms[1]) else { return nil }; minute = m }
        if hms.count > 2 { guard let sec = Double(hms[2]) else { return nil }; second = sec }
        return (hour, minute, second)
    }
}
