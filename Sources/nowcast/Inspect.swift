import ArgumentParser
import Foundation
import NowcastCore
import NowcastIO

/// `nowcast inspect`: what a file holds and what the toolkit reads from it.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show format, variables, grid, valid times and per-frame statistics of field files.",
        discussion: helpExamples("nowcast inspect radar.nc", "nowcast inspect --json --quantity DBZH composite.h5"))

    @Argument(help: "NetCDF, ODIM_H5 or HDF5 files.")
    var files: [String]

    @OptionGroup var field: FieldOptions

    @Flag(help: "Print one JSON document (an array of file reports) instead of text.")
    var json = false

    @Flag(help: "Only the header: skip per-frame statistics lines.")
    var brief = false

    func run() throws {
        let options = try field.readOptions()
        var reports: [FileReport] = []
        for path in files {
            let report = try FileReport(path: path, options: options)
            if json { reports.append(report) } else { print(render(report)) }
        }
        if json {
            print(String(decoding: try JSONCoding.encode(reports), as: UTF8.self))
        }
    }

    private func render(_ r: FileReport) -> String {
        var lines = [r.path]
        func row(_ key: String, _ value: String) { lines.append("  " + key.padding(toLength: 11, withPad: " ", startingAt: 0) + value) }
        row("format", r.format)
        row("contents", r.members.map { "\($0.name)(\($0.dimensions.joined(separator: ", "))) \($0.type)" }.joined(separator: "; "))
        row("field", "\(r.field): \(r.quantity) [\(r.units)]")
        row("decoding", r.decoding)
        row("time", "from \(r.timeSource)")
        row("grid", r.grid.summary)
        if let projection = r.grid.projection { row("projection", projection + (r.grid.projectionSource.map { " (from \($0))" } ?? "")) }
        if let mapping = r.grid.gridMapping { row("mapping", "\(mapping.variableName): \(mapping.name ?? "?")") }
        for warning in r.warnings { row("warning", warning) }
        row("frames", "\(r.frames.count)")
        guard !brief else { return lines.joined(separator: "\n") }
        let nonFinite = r.frames.contains { $0.nonFinite > 0 }
        lines.append("  valid time (UTC)            min        max       mean   missing      zero" + (nonFinite ? "  non-finite" : ""))
        for f in r.frames {
            func number(_ v: Double?) -> String { (v.map { String(format: "%.3f", $0) } ?? "-").leftPadded(10) }
            lines.append("  \(f.validTime.padding(toLength: 22, withPad: " ", startingAt: 0))\(number(f.min)) \(number(f.max)) \(number(f.mean))"
                + " \(String(format: "%9.4f", f.missingFraction)) \(String(format: "%9.4f", f.zeroFraction))"
                + (nonFinite ? String(f.nonFinite).leftPadded(12) : ""))
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    /// The string right-aligned in `width` characters.
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
