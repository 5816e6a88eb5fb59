import Foundation
import NowcastPlot
import NowcastVerify

/// The figures of a verification report: CSI per threshold and MAE against lead time for every
/// label; FSS against scale per threshold (all lead times pooled); and for ensembles the rank
/// histogram and the reliability diagram with its sharpness (all lead times pooled).
public enum VerificationPlots {
    /// Figures by file stem (`lead-time`, `fss`, `rank-histogram`, `reliability`); the last two only
    /// when some label is an ensemble.
    public static func figures(_ report: VerificationReport) -> [(name: String, figure: Figure)] {
        let s = report.settings
        let units = report.units
        let minutes = (1...s.leadTimes).map { Double($0) * s.stepSeconds / 60 }
        let colours = Dictionary(uniqueKeysWithValues: report.scores.enumerated().map { ($1.label, PlotColour.palette[$0 % PlotColour.palette.count]) })
        func line(_ scores: ForecastScores, _ values: [Double], x: [Double]) -> Panel.Line {
            Panel.Line(name: scores.label, points: zip(x, values).map { ($0, $1) }, colour: colours[scores.label] ?? .black,
                       dashed: ["persistence", "extrapolation"].contains(scores.label))
        }
        let condition = s.rules.comparison == .above ? ">" : ">="
        var figures: [(String, Figure)] = []

        var leadPanels = s.thresholds.enumerated().map { k, threshold -> Panel in
            var panel = Panel(title: "CSI, rain \(condition) \(VerificationReportTable.number(threshold)) \(units)", xLabel: "lead time (min)", yLabel: "CSI")
            panel.lines = report.scores.map { sc in line(sc, (0..<s.leadTimes).map { sc.categorical.tables[$0][k].criticalSuccessIndex }, x: minutes) }
            panel.yRange = 0...1
            return panel
        }
        var mae = Panel(title: "mean absolute error of the \(report.scores.contains { $0.members > 1 } ? "(ensemble mean) " : "")forecast",
                        xLabel: "lead time (min)", yLabel: "MAE (\(units))")
        mae.lines = report.scores.map { sc in line(sc, sc.continuous.leads.map(\.meanAbsoluteError), x: minutes) }
        leadPanels.append(mae)
        figures.append(("lead-time", Figure(title: "Scores against lead time (\(forecastCount(report)))", panels: leadPanels, panelHeight: 300)))

        let scales = s.scales.map(Double.init)
        let fssPanels = s.thresholds.enumerated().map { k, threshold -> Panel in
            var panel = Panel(title: "FSS, rain \(condition) \(VerificationReportTable.number(threshold)) \(units), all lead times", xLabel: "scale (pixels)", yLabel: "FSS")
            panel.lines = report.scores.map { sc in line(sc, sc.pooledFractions(threshold: k).map(\.value), x: scales) }
            if let first = report.scores.first {
                let uniform = first.pooledFractions(threshold: k).map(\.uniformSkill)
                panel.lines.append(Panel.Line(name: "uniform skill", points: zip(scales, uniform).map { ($0, $1) }, colour: .grey, dashed: true, markers: false))
            }
            panel.logarithmicX = scales.count > 1 && (scales.max() ?? 1) / (scales.min() ?? 1) >= 4
            panel.xTicks = scales
            panel.yRange = 0...1
            return panel
        }
        figures.append(("fss", Figure(title: "Fractions skill score against scale (\(forecastCount(report)))", panels: fssPanels, panelHeight: 300)))

        let ensembles = report.scores.filter { $0.ensemble != nil && $0.probability != nil }
        guard !ensembles.isEmpty else { return figures }
        let rankPanels = ensembles.map { sc -> Panel in
            let m = sc.members
            let ranks = sc.pooledRanks
            let total = ranks.reduce(0, +)
            var panel = Panel(title: "rank histogram of \(sc.label) (\(m) members, all lead times)", xLabel: "rank of the observation among the members",
                              yLabel: "frequency")
            panel.bars = [Panel.Bars(name: sc.label, bars: ranks.enumerated().map { (Double($0), total > 0 ? $1 / total : .nan) }, width: 0.8,
                                     colour: colours[sc.label] ?? .black)]
            panel.lines = [Panel.Line(name: "flat (1/\(m + 1))", points: [(-0.5, 1 / Double(m + 1)), (Double(m) + 0.5, 1 / Double(m + 1))],
                                      colour: .black, dashed: true, markers: false)]
            return panel
        }
        figures.append(("rank-histogram", Figure(title: "Rank histograms (\(forecastCount(report)))", panels: rankPanels, panelHeight: 280)))

        var reliabilityPanels: [Panel] = []
        for sc in ensembles {
            var reliability = Panel(title: "reliability of \(sc.label), all lead times", xLabel: "forecast probability", yLabel: "observed frequency")
            var sharpness = Panel(title: "sharpness of \(sc.label): share of forecasts per probability bin", xLabel: "forecast probability",
                                  yLabel: "share of forecasts")
            for (k, threshold) in s.thresholds.enumerated() {
                let pooled = sc.pooledProbability(threshold: k)
                let colour = PlotColour.palette[k % PlotColour.palette.count]
                let name = "\(condition) \(VerificationReportTable.number(threshold)) \(units)"
                // Bins no forecast fell in are left out rather than breaking the line.
                let points = zip(pooled.meanProbabilities, pooled.observedFrequencies).filter { $0.0.isFinite && $0.1.isFinite }.map { (x: $0.0, y: $0.1) }
                reliability.lines.append(Panel.Line(name: name, points: points, colour: colour))
                let total = pooled.binCounts.reduce(0, +)
                let centres = (0..<pooled.binCounts.count).map { (Double($0) + 0.5) / Double(pooled.binCounts.count) }
                sharpness.lines.append(Panel.Line(name: name, points: zip(centres, pooled.binCounts.map { total > 0 ? $0 / total : .nan }).map { ($0, $1) },
                                                  colour: colour))
            }
            reliability.lines.append(Panel.Line(name: "perfect reliability", points: [(0, 0), (1, 1)], colour: .grey, dashed: true, markers: false))
            (reliability.xRange, reliability.yRange, sharpness.xRange) = (0...1, 0...1, 0...1)
            reliability.legendAtLeft = true
            reliabilityPanels += [reliability, sharpness]
        }
        figures.append(("reliability", Figure(title: "Reliability diagrams (\(forecastCount(report)))", panels: reliabilityPanels, panelHeight: 300,
                                              panelWeights: reliabilityPanels.indices.map { $0 % 2 == 0 ? 1.6 : 1 })))
        return figures
    }

    private static func forecastCount(_ report: VerificationReport) -> String {
        let n = report.scores.map(\.referenceTimes.count).max() ?? 0
        return "\(n) forecast\(n == 1 ? "" : "s")"
    }
}
