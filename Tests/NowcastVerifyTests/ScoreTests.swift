import Foundation
import NowcastVerify
import XCTest

/// Each score against a case computed by hand or by its plain definition, merging two halves against
/// one pass, and JSON round trips (partial results merge later).
final class ScoreTests: XCTestCase {
    private let forecast: [Float] = [0, 2, 2, 0, .nan, 3]
    private let observed: [Float] = [0, 2, 0, 2, 2, .nan]

    private func roundTrip<T: Codable & Equatable>(_ value: T) throws {
        XCTAssertEqual(try JSONDecoder().decode(T.self, from: try JSONEncoder().encode(value)), value)
    }

    func testContingencyTablesAndTheirScores() throws {
        var scores = ContingencyScores(leadTimes: 2, thresholds: [1, 2])
        try scores.add(forecast: forecast, observed: observed, lead: 1)
        // Threshold 1, strict, NaN as no rain: H = 1 (2, 2), M = 2 (0, 2), (NaN, 2), F = 2 (2, 0), (3, NaN), R = 1.
        let t = scores.tables[1][0]
        XCTAssertEqual(t, ContingencyTable(hits: 1, misses: 2, falseAlarms: 2, correctNegatives: 1))
        XCTAssertEqual(t.probabilityOfDetection, 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(t.falseAlarmRatio, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(t.criticalSuccessIndex, 0.2, accuracy: 1e-12)
        XCTAssertEqual(t.frequencyBias, 1, accuracy: 1e-12)
        XCTAssertEqual(t.equitableThreatScore, (1 - 1.5) / (5 - 1.5), accuracy: 1e-12, "hits of chance (3 x 3) / 6")
        XCTAssertEqual(t.heidkeSkillScore, -6.0 / 18, accuracy: 1e-12, "2 (1 x 1 - 2 x 2) / (3 x 3 + 3 x 3)")
        // Threshold 2 strictly: only the forecast 3 is an event.
        XCTAssertEqual(scores.tables[1][1], ContingencyTable(hits: 0, misses: 0, falseAlarms: 1, correctNegatives: 5))
        XCTAssertEqual(scores.tables[0][0], ContingencyTable(), "lead 0 untouched")
        // At or above 2 and NaN left out: (2, 2) H, (2, 0) F, (0, 2) M, (0, 0) R.
        var other = ContingencyScores(leadTimes: 1, thresholds: [2], rules: ScoreRules(comparison: .atOrAbove, categoricalMissing: .leftOut))
        try other.add(forecast: forecast, observed: observed, lead: 0)
        XCTAssertEqual(other.tables[0][0], ContingencyTable(hits: 1, misses: 1, falseAlarms: 1, correctNegatives: 1))
        XCTAssertThrowsError(try scores.merge(other)) { XCTAssertTrue("\($0)".contains("ContingencyScores.merge"), "\($0)") }
        XCTAssertThrowsError(try scores.add(forecast: [1], observed: [1, 2], lead: 0))
        try roundTrip(scores)
    }

    func testContinuousScores() throws {
        var scores = ContinuousScores(leadTimes: 1)
        try scores.add(forecast: [1, 2, 3, .nan], observed: [2, 2, 5, 1], lead: 0)
        let s = scores.leads[0]
        XCTAssertEqual(s.count, 3)
        XCTAssertEqual(s.meanError, -1, accuracy: 1e-12)
        XCTAssertEqual(s.meanAbsoluteError, 1, accuracy: 1e-12)
        XCTAssertEqual(s.rootMeanSquaredError, (5.0 / 3).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(s.correlation, 1 / (4.0 / 3).squareRoot(), accuracy: 1e-12, "cov 1, var 2/3 and 2")
        try roundTrip(scores)
    }

    func testFractionsSkillScoreEqualsItsDefinitionAndItsReferences() throws {
        var random = SystemRandomNumberGenerator()
        let (ny, nx) = (13, 17)
        let f = (0..<(ny * nx)).map { _ in Float.random(in: 0...4, using: &random) }
        let o = (0..<(ny * nx)).map { _ in Float.random(in: 0...4, using: &random) }
        var scores = FractionsSkillScore(leadTimes: 1, thresholds: [1, 3], scales: [1, 2, 3, 6, 40])
        try scores.add(forecast: f, observed: o, ny: ny, nx: nx, lead: 0)
        for (k, threshold) in [Float(1), 3].enumerated() {
            for (s, scale) in [1, 2, 3, 6, 40].enumerated() {
                let reference = FractionsSkillScore.referenceValue(forecast: f.map { $0 > threshold }, observed: o.map { $0 > threshold },
                                                                   ny: ny, nx: nx, scale: scale)
                XCTAssertEqual(scores.sums[0][k][s].value, reference, accuracy: 1e-9, "threshold \(threshold), scale \(scale)")
            }
            let frequency = Double(o.filter { $0 > threshold }.count) / Double(o.count)
            XCTAssertEqual(scores.sums[0][k][0].randomSkill, frequency, accuracy: 1e-12)
            XCTAssertEqual(scores.sums[0][k][0].uniformSkill, 0.5 + frequency / 2, accuracy: 1e-12)
        }
        var same = FractionsSkillScore(leadTimes: 1, thresholds: [1], scales: [1, 5])
        try same.add(forecast: o, observed: o, ny: ny, nx: nx, lead: 0)
        XCTAssertEqual(same.sums[0][0][1].value, 1, accuracy: 1e-12, "a perfect forecast")
        // Two single events two cells apart: no skill at scale 1, some at scale 3, more at 5.
        var apart = FractionsSkillScore(leadTimes: 1, thresholds: [0.5], scales: [1, 3, 5])
        var a = [Float](repeating: 0, count: 100), b = a
        a[44] = 1; b[46] = 1
        try apart.add(forecast: a, observed: b, ny: 10, nx: 10, lead: 0)
        XCTAssertEqual(apart.sums[0][0][0].value, 0, accuracy: 1e-12)
        XCTAssertEqual(apart.sums[0][0][1].value, 1.0 / 3, accuracy: 1e-12, "3 x 3 windows of 1/9 overlapping in 3 cells: 1 - (4/27) / (2/9)")
        XCTAssertGreaterThan(apart.sums[0][0][2].value, apart.sums[0][0][1].value)
        try roundTrip(scores)
    }

    func testCRPSAgainstTheDoubleSumAndTheGaussianClosedForm() throws {
        var random = SystemRandomNumberGenerator()
        let members = 7, pixels = 50
        let ensemble = (0..<members).map { _ in (0..<pixels).map { _ in Float.random(in: -3...3, using: &random) } }
        var observed = (0..<pixels).map { _ in Float.random(in: -3...3, using: &random) }
        observed[3] = .nan  // left out
        var scores = EnsembleScores(leadTimes: 1, members: members)
        try scores.add(ensemble: ensemble, observed: observed, lead: 0)
        var (standard, fair, n) = (0.0, 0.0, 0.0)
        for i in 0..<pixels where !observed[i].isNaN {
            let x = ensemble.map { Double($0[i]) }
            standard += EnsembleScores.referenceCRPS(x, observed: Double(observed[i]), fair: false)
            fair += EnsembleScores.referenceCRPS(x, observed: Double(observed[i]), fair: true)
            n += 1
        }
        XCTAssertEqual(scores.leads[0].crps, standard / n, accuracy: 1e-6)
        XCTAssertEqual(scores.leads[0].fairCRPS, fair / n, accuracy: 1e-6)
        XCTAssertEqual(scores.leads[0].ranks.reduce(0, +), n, accuracy: 1e-9)

        // Members at the quantiles of N(0, 1): CRPS tends to the closed form sigma (z (2 Phi(z) - 1) + 2 phi(z) - 1 / sqrt(pi)).
        func quantile(_ p: Double) -> Double {
            var (lo, hi) = (-10.0, 10.0)
            for _ in 0..<80 { let mid = (lo + hi) / 2; if 0.5 * (1 + erf(mid / 2.0.squareRoot())) < p { lo = mid } else { hi = mid } }
            return (lo + hi) / 2
        }
        let big = 2000
        let gaussian = (0..<big).map { [Float(quantile((Double($0) + 0.5) / Double(big)))] }
        var closed = EnsembleScores(leadTimes: 1, members: big)
        let y = 0.7
        try closed.add(ensemble: gaussian, observed: [Float(y)], lead: 0)
        let expected = y * erf(y / 2.0.squareRoot()) + 2 * exp(-y * y / 2) / (2 * Double.pi).squareRoot() - 1 / Double.pi.squareRoot()
        XCTAssertEqual(closed.leads[0].crps, expected, accuracy: 1e-3)
        try roundTrip(scores)
    }

    func testRankHistogramSharesTies() throws {
        var scores = EnsembleScores(leadTimes: 1, members: 3)
        try scores.add(ensemble: [[1, 1, 5, 2], [2, 2, 6, 2], [3, 3, 7, 2]], observed: [0, 9, 6, 2], lead: 0)
        // 0 below all: rank 0; 9 above all: rank 3; 6 equals one member above one: ranks 1 and 2 by half;
        // 2 equals all three: a quarter to each rank.
        XCTAssertEqual(scores.leads[0].ranks, [1.25, 0.75, 0.75, 1.25])
        // The pixel where all agree counts, with nothing added to CRPS or spread.
        XCTAssertEqual(scores.leads[0].pixels, 4)
        let columns: [[Double]] = [[1, 2, 3], [1, 2, 3], [5, 6, 7], [2, 2, 2]]
        let reference = zip(columns, [0.0, 9, 6, 2]).map { EnsembleScores.referenceCRPS($0, observed: $1, fair: false) }.reduce(0, +) / 4
        XCTAssertEqual(scores.leads[0].crps, reference, accuracy: 1e-12)
        XCTAssertThrowsError(try scores.add(ensemble: [[1]], observed: [1], lead: 0))
    }

    func testBrierDecompositionReliabilityAndROC() throws {
        // Four members; probabilities above 1 of 0, 1/4, 1/2 and 1; events at pixels 1 and 3.
        let ensemble: [[Float]] = [[0, 2, 2, 3], [0, 0, 2, 3], [0, 0, 0, 3], [0, 0, 0, 3]]
        var scores = ProbabilityScores(leadTimes: 1, thresholds: [1], bins: 5)
        try scores.add(ensemble: ensemble, observed: [0, 2, 0, 2], lead: 0)
        let s = scores.sums[0][0]
        XCTAssertEqual(s.brierScore, (0 + 0.5625 + 0.25 + 0) / 4, accuracy: 1e-12)
        XCTAssertEqual(s.reliability, (0.5625 + 0.25) / 4, accuracy: 1e-12)
        XCTAssertEqual(s.resolution, 0.25, accuracy: 1e-12)
        XCTAssertEqual(s.uncertainty, 0.25, accuracy: 1e-12)
        XCTAssertEqual(s.reliability - s.resolution + s.uncertainty, s.brierScore, accuracy: 1e-12, "one probability per bin: exact")
        XCTAssertEqual(s.binCounts, [1, 1, 1, 0, 1], "sharpness")
        XCTAssertEqual(s.observedFrequencies[1], 1)
        XCTAssertTrue(s.meanProbabilities[3].isNaN)
        let roc = s.rocCurve
        XCTAssertEqual(roc.map(\.hitRate), [1, 1, 0.5, 0.5, 0.5, 0])
        XCTAssertEqual(roc.map(\.falseAlarmRate), [1, 0.5, 0.5, 0, 0, 0])
        XCTAssertEqual(s.rocArea, 0.75, accuracy: 1e-12)
        // The same probabilities given as a field score the same.
        var field = ProbabilityScores(leadTimes: 1, thresholds: [1], bins: 5)
        try field.add(probabilities: [0, 0.25, 0.5, 1], observed: [0, 2, 0, 2], lead: 0, threshold: 0)
        XCTAssertEqual(field, scores)
        try roundTrip(scores)
    }

    func testSpreadSkillRatio() throws {
        var scores = EnsembleScores(leadTimes: 1, members: 2)
        try scores.add(ensemble: [[1, 0], [3, 4]], observed: [2, 0], lead: 0)
        XCTAssertEqual(scores.leads[0].spread, 5.0.squareRoot(), accuracy: 1e-12, "variances 2 and 8")
        XCTAssertEqual(scores.leads[0].meanRMSE, 2.0.squareRoot(), accuracy: 1e-12, "ensemble means 2 and 2")
        XCTAssertEqual(scores.leads[0].spreadSkillRatio, (5.0 / 2).squareRoot(), accuracy: 1e-12)
    }

    func testMergingTwoHalvesEqualsOnePass() throws {
        var random = SystemRandomNumberGenerator()
        let (ny, nx, members) = (8, 9, 4)
        let fields = (0..<4).map { _ in (0..<members).map { _ in (0..<(ny * nx)).map { _ in Float.random(in: 0...3, using: &random) } } }
        let observations = (0..<4).map { _ in (0..<(ny * nx)).map { _ in Float.random(in: 0...3, using: &random) } }
        func scored(_ cases: Range<Int>) throws -> (ContingencyScores, ContinuousScores, FractionsSkillScore, EnsembleScores, ProbabilityScores) {
            var c = ContingencyScores(leadTimes: 2, thresholds: [1, 2]), d = ContinuousScores(leadTimes: 2)
            var f = FractionsSkillScore(leadTimes: 2, thresholds: [1], scales: [1, 3]), e = EnsembleScores(leadTimes: 2, members: members)
            var p = ProbabilityScores(leadTimes: 2, thresholds: [1, 2], bins: members + 1)
            for k in cases {
                try p.add(ensemble: fields[k], observed: observations[k], lead: k % 2)
                try c.add(forecast: fields[k][0], observed: observations[k], lead: k % 2)
                try d.add(forecast: fields[k][0], observed: observations[k], lead: k % 2)
                try f.add(forecast: fields[k][0], observed: observations[k], ny: ny, nx: nx, lead: k % 2)
                try e.add(ensemble: fields[k], observed: observations[k], lead: k % 2)
            }
            return (c, d, f, e, p)
        }
        let all = try scored(0..<4)
        var (c, d, f, e, p) = try scored(0..<2)
        let second = try scored(2..<4)
        try c.merge(second.0); try d.merge(second.1); try f.merge(second.2); try e.merge(second.3); try p.merge(second.4)
        XCTAssertEqual(c, all.0)
        XCTAssertEqual(p, all.4, "counts and sums of exact binary fractions")
        for t in 0..<2 {
            XCTAssertEqual(d.leads[t].rootMeanSquaredError, all.1.leads[t].rootMeanSquaredError, accuracy: 1e-12)
            XCTAssertEqual(f.sums[t][0][1].value, all.2.sums[t][0][1].value, accuracy: 1e-12)
            XCTAssertEqual(e.leads[t].crps, all.3.leads[t].crps, accuracy: 1e-12)
            XCTAssertEqual(e.leads[t].ranks, all.3.leads[t].ranks)
            XCTAssertEqual(e.leads[t].spreadSkillRatio, all.3.leads[t].spreadSkillRatio, accuracy: 1e-12)
        }
    }
}
