import Foundation

/// The scores of every forecast source of one verification, as `scores.json` holds them: the
/// settings they were made with, the fields' units, and one `ForecastScores` per label. Reports of
/// the same settings merge (other months, other machines) into the report of all their forecasts.
public struct VerificationReport: Codable, Equatable, Sendable {
    /// The `format` value of a scores file.
    public static let formatName = "nowcastkit-scores"
    public var format = VerificationReport.formatName
    public var version = 1
    public var settings: ScoreSettings
    /// Units of the fields scored (thresholds and continuous scores are in them).
    public var units: String
    public var scores: [ForecastScores]

    public init(settings: ScoreSettings, units: String, scores: [ForecastScores]) {
        (self.settings, self.units, self.scores) = (settings, units, scores)
    }

    /// Adds another report's scores, label by label (labels only one of them has are kept). Refused
    /// for other settings or units, and when both hold a forecast of the same label and reference time
    /// (it would count twice).
    public mutating func merge(_ other: VerificationReport) throws {
        try ScoreError.check("merge", other.settings == settings,
                             "the same settings (\(settings.summary))", other.settings.summary)
        try ScoreError.check("merge", other.units == units, "fields in \(units)", "fields in \(other.units)")
        for entry in other.scores {
            guard let k = scores.firstIndex(where: { $0.label == entry.label }) else {
                scores.append(entry)
                continue
            }
            let shared = Set(scores[k].referenceTimes).intersection(entry.referenceTimes)
            try ScoreError.check("merge", shared.isEmpty, "forecasts of '\(entry.label)' at other reference times",
                                 "\(shared.count) at the same, first \(Self.time(shared.min() ?? 0))")
            try scores[k].merge(entry)
        }
    }

    /// The report as `scores.csv`: one row per label, lead time, threshold and scale; continuous and
    /// ensemble scores repeat along the threshold and scale rows they do not depend on. Missing
    /// values (a score with nothing to count) are empty cells.
    public func csv() -> String {
        let decibel = settings.decibel != nil
        var header = ["label", "members", "forecasts", "lead", "lead_minutes", "threshold", "scale", "ME", "MAE", "RMSE", "correlation"]
        if decibel { header += ["ME_dBR", "MAE_dBR", "RMSE_dBR", "correlation_dBR"] }
        header += ["hits", "misses", "false_alarms", "correct_negatives", "POD", "FAR", "CSI", "ETS", "HSS", "frequency_bias",
                   "FSS", "FSS_uniform", "FSS_random", "CRPS", "CRPS_fair", "spread", "ensemble_mean_RMSE", "spread_skill",
                   "brier", "brier_reliability", "brier_resolution", "brier_uncertainty", "ROC_area"]
        var lines = [header.joined(separator: ",")]
        for s in scores {
            for lead in 0..<settings.leadTimes {
                let c = s.continuous.leads[lead]
                var continuous = [c.meanError, c.meanAbsoluteError, c.rootMeanSquaredError, c.correlation].map(Self.number)
                if let d = s.decibel?.leads[lead] {
                    continuous += [d.meanError, d.meanAbsoluteError, d.rootMeanSquaredError, d.correlation].map(Self.number)
                }
                let e = s.ensemble?.leads[lead]
                let ensemble = [e?.crps, e?.fairCRPS, e?.spread, e?.meanRMSE, e?.spreadSkillRatio].map { $0.map(Self.number) ?? "" }
                for (k, threshold) in settings.thresholds.enumerated() {
                    let t = s.categorical.tables[lead][k]
                    let p = s.probability?.sums[lead][k]
                    let table = ["\(t.hits)", "\(t.misses)", "\(t.falseAlarms)", "\(t.correctNegatives)"]
                        + [t.probabilityOfDetection, t.falseAlarmRatio, t.criticalSuccessIndex, t.equitableThreatScore,
                           t.heidkeSkillScore, t.frequencyBias].map(Self.number)
                    let brier = [p?.brierScore, p?.reliability, p?.resolution, p?.uncertainty, p?.rocArea].map { $0.map(Self.number) ?? "" }
                    for (j, scale) in settings.scales.enumerated() {
                        let f = s.fractions.sums[lead][k][j]
                        let row = [Self.quoted(s.label), "\(s.members)", "\(s.referenceTimes.count)", "\(lead + 1)",
                                   Self.number((Double(lead + 1) * settings.stepSeconds / 60)), Self.number(threshold), "\(scale)"]
                            + continuous + table + [f.value, f.uniformSkill, f.randomSkill].map(Self.number) + ensemble + brier
                        lines.append(row.joined(separator: ","))
                    }
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A number for a CSV cell: up to 6 significant digits, empty when missing.
    static func number(_ value: Double) -> String { value.isFinite ? String(format: "%.6g", value) : "" }

    private static func quoted(_ text: String) -> String {
        text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }

    static func time(_ seconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
}

extension ScoreSettings {
    /// The settings in one line, for messages.
    public var summary: String {
        let step = Int(stepSeconds.rounded())
        let decibelText = decibel.map { ", dBR from \($0.threshold) (zero \($0.zero))" } ?? ""
        return "\(leadTimes) leads every \(step) s, thresholds \(thresholds.map(VerificationReport.number).joined(separator: ",")), "
            + "scales \(scales.map(String.init).joined(separator: ",")), \(rules.comparison.rawValue), NaN \(rules.categoricalMissing.rawValue), "
            + "\(bins) bins\(decibelText), \(ny) x \(nx)"
    }
}
