import Foundation
import NowcastIO
import XCTest

final class TimeTests: XCTestCase {
    func testCivilDatesRoundTripAcrossCenturiesAndLeapDays() {
        for days in stride(from: -800_000, through: 800_000, by: 997) {
            let (y, m, d) = UTCTime.civil(days: days)
            XCTAssertEqual(UTCTime.days(year: y, month: m, day: d), days)
        }
        XCTAssertEqual(UTCTime.days(year: 1970, month: 1, day: 1), 0)
        XCTAssertEqual(UTCTime.days(year: 2000, month: 3, day: 1) - UTCTime.days(year: 2000, month: 2, day: 28), 2)
        XCTAssertEqual(UTCTime.days(year: 1900, month: 3, day: 1) - UTCTime.days(year: 1900, month: 2, day: 28), 1)
        XCTAssertNil(UTCTime.date(year: 2021, month: 2, day: 29))
    }

    func testParsingTheDateFormsFoundInFiles() {
        let expected = Date(timeIntervalSince1970: 1_604_102_400)  // 2020-10-31 00:00 UTC
        for text in ["2020-10-31 00:00:00 UTC", "2020-10-31T00:00:00Z", "2020-10-31", "2020-10-31 0:0:0", "2020-10-31T10:00:00+10:00",
                     "2020-10-30 14:00:00 -1000"] {
            XCTAssertEqual(UTCTime.parse(text), expected, text)
        }
        XCTAssertEqual(UTCTime.parse("2020-10-31 00:00:00.5")?.timeIntervalSince1970, 1_604_102_400.5)
        for bad in ["", "yesterday", "2020-13-01", "2020-10-31 25:00", "31/10/2020"] { XCTAssertNil(UTCTime.parse(bad), bad) }
        XCTAssertEqual(UTCTime.iso8601(expected), "2020-10-31T00:00:00Z")
    }

    func testCFTimeUnitsDecodeEveryUnitAndRejectWhatTheyCannotHonour() throws {
        let seconds = try CFTimeUnits(units: "seconds since 1970-01-01 00:00:00 UTC")
        XCTAssertEqual(seconds.date(1_604_102_400), Date(timeIntervalSince1970: 1_604_102_400))
        let minutes = try CFTimeUnits(units: "minutes since 2020-01-01", calendar: "gregorian")
        XCTAssertEqual(UTCTime.iso8601(minutes.date(1435)), "2020-01-01T23:55:00Z")
        XCTAssertEqual(minutes.value(minutes.date(1435)), 1435)
        XCTAssertEqual(UTCTime.iso8601(try CFTimeUnits(units: "days since 2000-01-01T00:00:00Z").date(0.25)), "2000-01-01T06:00:00Z")
        XCTAssertEqual(UTCTime.iso8601(try CFTimeUnits(units: "hours since 1900-01-01", calendar: "proleptic_gregorian").date(24)),
                       "1900-01-02T00:00:00Z")
        XCTAssertThrowsError(try CFTimeUnits(units: "months since 2000-01-01"))
        XCTAssertThrowsError(try CFTimeUnits(units: "seconds after 2000-01-01"))
        XCTAssertThrowsError(try CFTimeUnits(units: "seconds since the epoch"))
        XCTAssertThrowsError(try CFTimeUnits(units: "days since 2000-01-01", calendar: "360_day")) {
            XCTAssertTrue("\($0)".contains("360_day"))
        }
        XCTAssertThrowsError(try CFTimeUnits(units: "days since 1000-01-01", calendar: "standard"))
        XCTAssertNoThrow(try CFTimeUnits(units: "days since 1000-01-01", calendar: "proleptic_gregorian"))
    }

    func testTimePatternsFindDatesInNames() throws {
        let pattern = try TimePattern("%Y%m%d_%H%M%S")
        XCTAssertEqual(pattern.firstDate(in: "66_20201031_001000.prcp-c10.nc").map(UTCTime.iso8601), "2020-10-31T00:10:00Z")
        XCTAssertNil(pattern.firstDate(in: "no date here"))
        XCTAssertEqual(try TimePattern("T_PAAH21_C_EUOC_%Y%m%d%H%M").firstDate(in: "T_PAAH21_C_EUOC_20180824181500.hdf").map(UTCTime.iso8601),
                       "2018-08-24T18:15:00Z")
        XCTAssertEqual(try TimePattern("%y%j%H%M").firstDate(in: "x21185_1550").map(UTCTime.iso8601), nil)
        XCTAssertEqual(try TimePattern("%y%j_%H%M").firstDate(in: "x21185_1550").map(UTCTime.iso8601), "2021-07-04T15:50:00Z")
        XCTAssertThrowsError(try TimePattern("%H%M"))
        XCTAssertThrowsError(try TimePattern("%Y%q"))
    }
}
