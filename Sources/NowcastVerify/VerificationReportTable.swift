import Foundation

/// The terminal's view of a report: per label, CSI at each threshold, MAE and (for ensembles) CRPS
/// at a few lead times, and FSS at each scale for the middle threshold, all lead times pooled.
public enum VerificationReportTable {
    /// The table as lines of text; `columns` lead times at most, spread over the range.
    public static func render(_ report: VerificationReport, columns: Int = 6) -> String {
        let s = report.settings
        let leads = spread(s.leadTimes, columns)
        let heads = leads.map { "+\(number(Double($0 + 1) * s.stepSeconds / 60))" }
        let width = max(16, (report.scores.map(\.label.count).max() ?? 0) + 4)
        let condition = s.rules.comparison == .above ? ">" : ">="
        var lines: [String] = []
        func block(_ title: String, _ value: (ForecastScores, Int) -> Double?) {
            lines.append(pad(title, width) + heads.map { pad($0, 8, right: true) }.joined())
            for sc in report.scores {
                let cells = leads.map { lead in value(sc, lead).map { $0.isFinite ? String(format: "%.3f", $0) : "-" } ?? "" }
                lines.append(pad("  " + sc.label, width) + cells.map { pad($0, 8, right: true) }.joined())
            }
        }
        for (k, threshold) in s.thresholds.enumerated() {
            block("CSI \(condition) \(number(threshold))") { sc, lead in sc.categorical.tables[lead][k].criticalSuccessIndex }
        }
        block("MAE (\(report.units))") { sc, lead in sc.continuous.leads[lead].meanAbsoluteError }
        if report.scores.contains(where: { $0.ensemble != nil }) {
            block("CRPS") { sc, lead in sc.ensemble?.leads[lead].crps }
        }
        let middle = s.thresholds.count / 2
        lines.append(pad("FSS \(condition) \(number(s.thresholds[middle])), scale", width) + s.scales.map { pad("\($0)", 8, right: true) }.joined())
        for sc in report.scores {
            let cells = sc.pooledFractions(threshold: middle).map { $0.value.isFinite ? String(format: "%.3f", $0.value) : "-" }
            lines.append(pad("  " + sc.label, width) + cells.map { pad($0, 8, right: true) }.joined())
        }
        return lines.joined(separator: "\n")
    }

    /// `1` rather than `1.0`; `0.5` as it is (the trainer's threshold labels).
    public static func number(_ value: Double) -> String { LeadTimeScores.label(threshold: value) }

    /// Up to `count` lead indices spread evenly over `0..<total`, always including the last.
    static func spread(_ total: Int, _ count: Int) -> [Int] {
        guard total > count else { return Array(0..<total) }
        return (1...count).map { k in Int((Double(k) * Double(total) / Double(count)).rounded()) - 1 }
    }

    private static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let gap = String(repeating: " ", count: max(1, width - text.count))
        return right ? gap + text : text + gap
    }
}
