import NowcastVerify
import XCTest

final class ScoreTests: XCTestCase {
    func testScoresAgainstHandCounts() throws {
        var scores = LeadTimeScores(leadTimes: 2, thresholds: [1, 5])
        let forecast: [Float] = [0, 2, 6, 1, .nan]
        let observed: [Float] = [0, 1, 2, 7, 3]
        try forecast.withUnsafeBufferPointer { f in try observed.withUnsafeBufferPointer { o in try scores.add(forecast: f, observed: o, lead: 1) } }
        XCTAssertEqual(scores.counts, [0, 4], "the NaN forecast is left out")
        XCTAssertEqual(scores.meanAbsoluteError(lead: 1), (0 + 1 + 4 + 6) / 4, accuracy: 1e-12)
        XCTAssertEqual(scores.rootMeanSquaredError(lead: 1), ((0.0 + 1 + 16 + 36) / 4).squareRoot(), accuracy: 1e-12)
        // Threshold 1: forecast events at 2, 6, 1; observed at 1, 2, 7 -> 3 hits. Threshold 5: forecast 6 (obs 2), observed 7 (fc 1).
        XCTAssertEqual(scores.hits[1], [3, 0])
        XCTAssertEqual(scores.misses[1], [0, 1])
        XCTAssertEqual(scores.falseAlarms[1], [0, 1])
        XCTAssertEqual(scores.criticalSuccessIndex(lead: 1, threshold: 0), 1)
        XCTAssertEqual(scores.criticalSuccessIndex(lead: 1, threshold: 1), 0)
        XCTAssertTrue(scores.meanAbsoluteError(lead: 0).isNaN, "nothing verified at lead 0")
        var twice = scores
        try twice.merge(scores)
        XCTAssertEqual(twice.counts, [0, 8])
        XCTAssertEqual(twice.meanAbsoluteError, scores.meanAbsoluteError, accuracy: 1e-12)
        XCTAssertEqual(twice.criticalSuccessIndex(threshold: 0), 1)
        XCTAssertThrowsError(try twice.merge(LeadTimeScores(leadTimes: 3, thresholds: [1, 5])))
        XCTAssertThrowsError(try forecast.withUnsafeBufferPointer { f in try scores.add(forecast: f, observed: f, lead: 2) })
    }
}
