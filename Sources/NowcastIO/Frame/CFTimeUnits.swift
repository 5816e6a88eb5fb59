import Foundation

/// CF time units, `<unit> since <reference date>`, with a calendar. Decodes stored numbers (integer
/// or floating) to UTC dates and encodes dates back.
public struct CFTimeUnits: Equatable, Sendable {
    /// Seconds in one unit (e.g. 60 for minutes).
    public let secondsPerUnit: Double
    /// The reference date (UTC).
    public let reference: Date
    /// The calendar name as given (lower-cased), `standard` when none was given.
    public let calendar: String

    /// Calendars decoded here: all agree with the proleptic Gregorian calendar after 1582-10-15.
    public static let supportedCalendars = ["standard", "gregorian", "proleptic_gregorian"]

    /// Parses `units` such as `seconds since 1970-01-01 00:00:00 UTC`; the error text says what failed.
    public init(units: String, calendar: String? = nil) throws {
        let calendarName = (calendar ?? "standard").lowercased().trimmingCharacters(in: .whitespaces)
        guard Self.supportedCalendars.contains(calendarName) else {
            throw CFTimeError("calendar '\(calendarName)' is not supported (expected one of \(Self.supportedCalendars.joined(separator: ", ")))")
        }
        let pieces = units.trimmingCharacters(in: .whitespaces).components(separatedBy: " since ")
        guard pieces.count == 2 else {
            throw CFTimeError("time units '\(units)' are not of the form '<unit> since <date>'")
        }
        guard let seconds = Self.unitSeconds[pieces[0].trimmingCharacters(in: .whitespaces).lowercased()] else {
            throw CFTimeError("time unit '\(pieces[0])' in '\(units)' is not one of seconds, minutes, hours, days, weeks, milliseconds, microseconds")
        }
        guard let reference = UTCTime.parse(pieces[1]) else {
            throw CFTimeError("reference date '\(pieces[1])' in '\(units)' is not a date")
        }
        // The standard calendar is Julian before 1582-10-15; reference dates there would need it.
        if calendarName != "proleptic_gregorian", reference < Self.gregorianStart {
            throw CFTimeError("reference date '\(pieces[1])' precedes 1582-10-15, where the \(calendarName) calendar is Julian; not supported")
        }
        self.secondsPerUnit = seconds
        self.reference = reference
        self.calendar = calendarName
    }

    /// The date of a stored value.
    public func date(_ value: Double) -> Date {
        // Whole-second rounding below the microsecond keeps float-stored minutes exact.
        let seconds = value * secondsPerUnit
        let rounded = (seconds * 1e6).rounded() / 1e6
        return reference.addingTimeInterval(rounded)
    }

    /// The stored value of a date.
    public func value(_ date: Date) -> Double { date.timeIntervalSince(reference) / secondsPerUnit }

    /// 1582-10-15T00:00:00Z, the first day of the Gregorian calendar.
    private static let gregorianStart = Date(timeIntervalSince1970: -12_219_292_800)

    /// Seconds per unit name, as CF (udunits) spells them; also what a `forecast_period` is counted in.
    static let unitSeconds: [String: Double] = {
        var table: [String: Double] = [:]
        for name in ["seconds", "second", "secs", "sec", "s"] { table[name] = 1 }
        for name in ["minutes", "minute", "mins", "min"] { table[name] = 60 }
        for name in ["hours", "hour", "hrs", "hr", "h"] { table[name] = 3600 }
        for name in ["days", "day", "d"] { table[name] = 86_400 }
        for name in ["weeks", "week"] { table[name] = 604_800 }
        for name in ["milliseconds", "millisecond", "msec", "ms"] { table[name] = 1e-3 }
        for name in ["microseconds", "microsecond", "usec", "us"] { table[name] = 1e-6 }
        return table
    }()
}

/// Why CF time units could not be decoded; the readers wrap it with the file and variable names.
public struct CFTimeError: Error, Equatable, CustomStringConvertible {
    /// What was wrong.
    public let description: String
    init(_ description: String) { self.description = description }
}
