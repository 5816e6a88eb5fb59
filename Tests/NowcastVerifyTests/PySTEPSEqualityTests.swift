import Foundation
import NowcastTestSupport
import NowcastVerify
import XCTest

/// NowcastVerify's scores against `pysteps.verification` on the same arrays, to 1e-6: CSI and ETS
/// (`det_cat_fct`), FSS (`fss`), CRPS (`probscores.CRPS`) and the rank histogram (`rankhist`).
/// The fields are continuous (no value equals a threshold and no two members tie), since there
/// pySTEPS differs by design: its FSS counts `>=` where its CSI counts `>`, and its rank histogram
/// breaks ties at random where ours shares them. Missing values appear in every field.
final class PySTEPSEqualityTests: XCTestCase {
    private let (ny, nx, members) = (30, 41, 6)

    /// A smooth log-normal-like field with rain-free patches, NaN in one corner.
    private func field(_ seed: Int) -> [Float] {
        var generator = SplitMix(seed: UInt64(seed))
        return (0..<(ny * nx)).map { i -> Float in
            let (y, x) = (Double(i / nx), Double(i % nx))
            if y < 3 && x < 4 { return .nan }
            let wave = sin(x / 5 + Double(seed % 7) / 10) * cos(y / 4 - Double(seed % 5) / 10)
            return Float(exp(2 * wave + 0.5 * generator.normal()))
        }
    }

    func testScoresEqualPySTEPSVerification() throws {
        try Python.require(["pysteps", "numpy"])
        let observed = field(100)
        let ensemble = (0..<members).map { field($0 + 1) }
        let thresholds = [0.5, 1.0, 5.0], scales = [1, 4, 9]

        var categorical = ContingencyScores(leadTimes: 1, thresholds: thresholds)
        var fractions = FractionsSkillScore(leadTimes: 1, thresholds: thresholds, scales: scales)
        var scores = EnsembleScores(leadTimes: 1, members: members)
        try categorical.add(forecast: ensemble[0], observed: observed, lead: 0)
        try fractions.add(forecast: ensemble[0], observed: observed, ny: ny, nx: nx, lead: 0)
        try scores.add(ensemble: ensemble, observed: observed, lead: 0)

        let folder = try temporaryFolder(self, prefix: "pysteps-equality")
        let input = folder + "/fields.json"
        func list(_ v: [Float]) -> [Any] { v.map { $0.isNaN ? NSNull() as Any : Double($0) as Any } }
        let document: [String: Any] = ["ny": ny, "nx": nx, "obs": list(observed), "ens": ensemble.map(list), "thresholds": thresholds, "scales": scales]
        try JSONSerialization.data(withJSONObject: document).write(to: URL(fileURLWithPath: input))
        let (status, output) = try Python.run("""
        import json, numpy as np
        from pysteps.verification import det_cat_fct, fss, rankhist
        from pysteps.verification.probscores import CRPS
        d = json.load(open("\(input)"))
        shape = (d["ny"], d["nx"])
        def arr(v): return np.array([np.nan if x is None else x for x in v], dtype=float).reshape(shape)
        obs, ens = arr(d["obs"]), np.stack([arr(m) for m in d["ens"]])
        out = {"csi": [], "ets": [], "fss": []}
        for t in d["thresholds"]:
            s = det_cat_fct(ens[0], obs, t, scores=["CSI", "ETS"])
            out["csi"].append(float(s["CSI"])); out["ets"].append(float(s["ETS"]))
            out["fss"].append([float(fss(ens[0], obs, t, k)) for k in d["scales"]])
        out["crps"] = float(CRPS(ens, obs))
        out["rank"] = [float(x) for x in rankhist(ens, obs, normalize=True)]
        print(json.dumps(out))
        """)
        XCTAssertEqual(status, 0, output)
        let line = output.split(separator: "\n").last.map(String.init) ?? ""
        let peer = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], output)
        let csi = try XCTUnwrap(peer["csi"] as? [Double]), ets = try XCTUnwrap(peer["ets"] as? [Double])
        let fss = try XCTUnwrap(peer["fss"] as? [[Double]]), rank = try XCTUnwrap(peer["rank"] as? [Double])
        for k in thresholds.indices {
            let table = categorical.tables[0][k]
            XCTAssertEqual(table.criticalSuccessIndex, csi[k], accuracy: 1e-6, "CSI > \(thresholds[k])")
            XCTAssertEqual(table.equitableThreatScore, ets[k], accuracy: 1e-6, "ETS > \(thresholds[k])")
            for j in scales.indices {
                XCTAssertEqual(fractions.sums[0][k][j].value, fss[k][j], accuracy: 1e-6, "FSS > \(thresholds[k]) at \(scales[j])")
            }
        }
        XCTAssertEqual(scores.leads[0].crps, try XCTUnwrap(peer["crps"] as? Double), accuracy: 1e-6)
        XCTAssertEqual(scores.leads[0].rankFrequencies.count, rank.count)
        for (ours, theirs) in zip(scores.leads[0].rankFrequencies, rank) { XCTAssertEqual(ours, theirs, accuracy: 1e-6) }
        XCTAssertGreaterThan(csi.min() ?? 0, 0, "every threshold has events")
    }
}

/// SplitMix64 with Box-Muller normals: a fixed stream for test fields.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func normal() -> Double { (-2 * log(max(uniform(), 1e-300))).squareRoot() * cos(2 * .pi * uniform()) }
}
