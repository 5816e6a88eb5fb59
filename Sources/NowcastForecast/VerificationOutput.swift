import Foundation
import NowcastCore
import NowcastPlot
import NowcastVerify

/// A verification report folder: `scores.json` (every accumulator, mergeable), `scores.csv` and
/// the plots as PNG and SVG. Everything is made in memory first and the folder is renamed into
/// place when complete, so a failure leaves no half-written report (an earlier one stays as it was).
public enum VerificationOutput {
    /// Writes `report` into `folder` (made if missing); returns the paths written.
    @discardableResult
    public static func write(_ report: VerificationReport, to folder: String, formats: [PlotFormat] = PlotFormat.allCases) throws -> [String] {
        try check(report)
        var files: [(String, Data)] = [("scores.json", try JSONCoding.encode(report, pretty: false)), ("scores.csv", Data(report.csv().utf8))]
        for (name, figure) in VerificationPlots.figures(report) {
            for format in formats { files.append(("\(name).\(format.rawValue)", try figure.render(format))) }
        }
        // The folder is replaced whole; one that holds something other than a report is left alone.
        let fm = FileManager.default
        if let existing = try? fm.contentsOfDirectory(atPath: folder), !existing.isEmpty, !existing.contains("scores.json") {
            throw VerificationError.setting(key: "output", expected: "a new folder or an earlier report's", found: "\(folder), which holds other files")
        }
        try AtomicOutput.writeFolder(folder) { temporary in
            for (name, data) in files { try AtomicOutput.write(data, to: (temporary as NSString).appendingPathComponent(name)) }
        }
        let written = files.map { (folder as NSString).appendingPathComponent($0.0) }
        return written
    }

    /// Reads a `scores.json`; a file of another kind or version is refused by name.
    public static func read(_ path: String) throws -> VerificationReport {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw VerificationError.data(detail: "\(path): no such file (expected a scores.json that nowcast verify wrote)")
        }
        let report: VerificationReport
        do { report = try JSONCoding.decoder().decode(VerificationReport.self, from: data) } catch {
            throw VerificationError.data(detail: "\(path): not a scores.json of nowcast verify (\(error))")
        }
        guard report.format == VerificationReport.formatName, report.version == 1 else {
            throw VerificationError.data(detail: "\(path): format '\(report.format)' version \(report.version); expected '\(VerificationReport.formatName)' version 1")
        }
        return report
    }

    /// Merges reports in order; names the file whose settings or forecasts do not fit.
    public static func merge(_ paths: [String]) throws -> VerificationReport {
        guard var merged = try paths.first.map(read) else { throw VerificationError.setting(key: "merge", expected: "scores.json files", found: "none") }
        for path in paths.dropFirst() {
            do { try merged.merge(try read(path)) } catch let error as ScoreError {
                throw VerificationError.data(detail: "\(path) does not merge with \(paths[0]): \(error)")
            }
        }
        return merged
    }

    /// A report holds something: every label has forecasts and counted pixels.
    private static func check(_ report: VerificationReport) throws {
        for scores in report.scores {
            let pixels = scores.continuous.leads.map(\.count).reduce(0, +)
            guard !scores.referenceTimes.isEmpty, pixels > 0 else {
                throw VerificationError.data(detail: "'\(scores.label)' has no verified pixel (every forecast or observation value was missing)")
            }
        }
    }
}
