import Foundation
import NowcastVerify
import XCTest

/// `ForecastScores` and `VerificationReport`: the ensemble mean is what deterministic scores see,
/// JSON round trips exactly, and the CSV has one row per label, lead, threshold and scale.
final class ReportTests: XCTestCase {
    private let settings = ScoreSettings(leadTimes: 2, stepSeconds: 300, thresholds: [0.5, 2], scales: [1, 3], decibel: DecibelScale(), ny: 4, nx: 5)

    private func field(_ seed: Int) -> [Float] {
        (0..<20).map { i in Float((i * 7 + seed * 13) % 11) / 3 }
    }

    func testDeterministicScoresAreOfTheEnsembleMean() throws {
        var ensemble = ForecastScores(label: "model", members: 3, settings: settings)
        var mean = ForecastScores(label: "model", members: 1, settings: settings)
        let members = [field(1), field(2), field(3)]
        let average = (0..<20).map { i in members.map { $0[i] }.reduce(0, +) / 3 }
        try ensemble.add(ensemble: members, observed: field(4), lead: 1)
        try mean.add(ensemble: [average], observed: field(4), lead: 1)
        XCTAssertEqual(ensemble.categorical, mean.categorical)
        XCTAssertEqual(ensemble.fractions, mean.fractions)
        XCTAssertEqual(ensemble.continuous.leads[1].absoluteError, mean.continuous.leads[1].absoluteError, accuracy: 1e-5)
        XCTAssertNotNil(ensemble.ensemble)
        XCTAssertNil(mean.ensemble, "one member has no ensemble scores")
        XCTAssertEqual(ensemble.pooledRanks.reduce(0, +), 20, "every pixel ranked once")
        // A member missing at a pixel leaves the mean to the others; all missing, the mean is missing.
        var holes = ForecastScores(label: "model", members: 2, settings: settings)
        var (a, b) = (field(1), field(2))
        (a[0], a[1], b[1]) = (.nan, .nan, .nan)
        var expected = (0..<20).map { (a[$0] + b[$0]) / 2 }
        (expected[0], expected[1]) = (b[0], .nan)
        var direct = ForecastScores(label: "model", members: 1, settings: settings)
        try holes.add(ensemble: [a, b], observed: field(4), lead: 0)
        try direct.add(ensemble: [expected], observed: field(4), lead: 0)
        XCTAssertEqual(holes.continuous, direct.continuous)
        XCTAssertEqual(holes.categorical, direct.categorical)
        XCTAssertThrowsError(try ensemble.add(ensemble: [field(1)], observed: field(4), lead: 0)) {
            XCTAssertTrue("\($0)".contains("3 members of 4 x 5"), "\($0)")
        }
    }

    func testTheDecibelScaleIsPySTEPSsTransform() {
        let scale = DecibelScale()
        XCTAssertEqual(scale.forward(10), 10, accuracy: 1e-6)
        XCTAssertEqual(scale.forward(0.1), -10, accuracy: 1e-5)
        XCTAssertEqual(scale.forward(0.05), -15)
        XCTAssertTrue(scale.forward(.nan).isNaN)
    }

    func testAReportRoundTripsThroughJSONAndWritesOneCSVRowPerCombination() throws {
        var a = ForecastScores(label: "model, v2", members: 2, settings: settings)
        var b = ForecastScores(label: "persistence", members: 1, settings: settings)
        for lead in 0..<2 {
            a.addForecast(referenceTime: 1_717_200_000)
            try a.add(ensemble: [field(lead), field(lead + 5)], observed: field(9), lead: lead)
            try b.add(ensemble: [field(lead + 2)], observed: field(9), lead: lead)
        }
        b.addForecast(referenceTime: 1_717_200_000)
        let report = VerificationReport(settings: settings, units: "mm h-1", scores: [a, b])
        let data = try JSONEncoder().encode(report)
        XCTAssertEqual(try JSONDecoder().decode(VerificationReport.self, from: data), report)

        let rows = report.csv().split(separator: "\n")
        XCTAssertEqual(rows.count, 1 + 2 * 2 * 2 * 2, "header + labels x leads x thresholds x scales")
        let header = rows[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let first = rows[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(header.count, 38)
        XCTAssertEqual(rows[1].prefix(12), "\"model, v2\",", "a label with a comma is quoted")
        let csi = try XCTUnwrap(header.firstIndex(of: "CSI"))
        let table = a.categorical.tables[0][0]
        XCTAssertEqual(Double(rows[1].split(separator: ",", omittingEmptySubsequences: false)[csi + 1]) ?? -1, table.criticalSuccessIndex, accuracy: 1e-5)
        XCTAssertEqual(first.count, header.count + 1, "the quoted label holds one comma")
        let persistence = rows.last.map { $0.split(separator: ",", omittingEmptySubsequences: false) } ?? []
        XCTAssertEqual(persistence[header.firstIndex(of: "CRPS") ?? 0], "", "one member has no CRPS: an empty cell")

        let text = VerificationReportTable.render(report)
        XCTAssertTrue(text.contains("CSI > 0.5"), text)
        XCTAssertTrue(text.contains("CRPS"), text)
        XCTAssertTrue(text.contains("FSS > 2, scale"), text)
    }
}
