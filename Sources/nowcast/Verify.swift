import ArgumentParser
import Foundation
import NowcastForecast
import NowcastIO
import NowcastPlot
import NowcastVerify

/// `nowcast verify`: forecast products scored against observations beside persistence and
/// extrapolation, into a report folder; or reports merged.
struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score forecast products against observations, beside persistence and extrapolation baselines: scores.json, scores.csv, plots.",
        discussion: helpExamples(
            "nowcast verify --forecast products/ --obs /data/radar --thresholds 0.5,1,5 --scales 1,4,16 -o report",
            "nowcast verify --forecast convlstm/ --label convlstm --forecast unet/ --label unet --obs /data/radar --transform rate:10 -o report",
            "nowcast verify --forecast ours.nc --label ours --forecast pysteps.nc --label pysteps --common-pixels --obs /data/bom -o report",
            "nowcast verify --merge october/scores.json november/scores.json -o autumn"))

    @Option(name: .customLong("forecast"), parsing: .upToNextOption,
            help: "Forecast products: files, folders or glob patterns (repeatable; with one --label per --forecast, each is its own source).")
    var forecasts: [String] = []

    @Option(name: .customLong("label"), help: "Name of the forecast source in tables and plots (repeatable, one per --forecast; default: forecast).")
    var labels: [String] = []

    @Option(name: .customLong("obs"), parsing: .upToNextOption, help: "Observations: files, folders or glob patterns of any archive nowcast reads.")
    var observations: [String] = []

    @OptionGroup var field: FieldOptions

    @Option(name: .customLong("transform"), help: "Physical transforms bringing the observations into the products' units, e.g. rate:10 (repeatable).")
    var transforms: [String] = []

    @Option(help: "Baselines made from the observations for each product's reference time: persistence, extrapolation, both (default) or none.")
    var baselines = "persistence,extrapolation"

    @Option(help: "Event thresholds in the products' units, comma-separated.")
    var thresholds = "0.5,1,5"

    @Option(help: "Fractions skill score neighbourhoods in pixels, comma-separated.")
    var scales = "1,4,16"

    @Option(help: "An event: above (value > threshold, pySTEPS) or at-or-above (>=).")
    var comparison = "above"

    @Option(help: "NaN in categorical and spatial scores: no-rain (pySTEPS; the default) or left-out (the default with --common-pixels).")
    var missing: String?

    @Flag(help: "Score every source only where all of them (every member, the baselines) and the observation are valid.")
    var commonPixels = false

    @Option(help: "Probability bins of the reliability diagram.")
    var bins = 11

    @Flag(inversion: .prefixedNo, help: "Continuous scores also on the dBR scale (10 log10 R from 0.1 mm/h, -15 below).")
    var dbr = true

    @Option(help: "Frames the extrapolation baseline estimates its motion from.")
    var motionFrames = 3

    @Option(help: "The forecast variable in the products, when a file has several.")
    var forecastVariable: String?

    @Option(parsing: .upToNextOption, help: "Merge these scores.json files (of the same settings) into one report instead of verifying.")
    var merge: [String] = []

    @Option(help: "Plot formats: png,svg (default), png, svg or none.")
    var plots = "png,svg"

    @Option(name: [.short, .long], help: "The report folder (made, or an earlier report's replaced).")
    var output: String

    func resolved() throws -> VerificationConfig {
        var c = VerificationConfig()
        if labels.count <= 1 {
            c.sources = forecasts.isEmpty ? [] : [.init(products: forecasts, label: labels.first ?? "forecast")]
        } else {
            guard labels.count == forecasts.count else {
                throw ValidationError("--label: give one per --forecast (\(forecasts.count)) or one for all, got \(labels.count)")
            }
            c.sources = zip(forecasts, labels).map { .init(products: [$0], label: $1) }
        }
        c.observations = observations
        try field.apply(to: &c.field)
        c.transforms = transforms
        if baselines != "none" {
            c.baselines = try baselines.split(separator: ",").map { name in
                guard let b = VerificationConfig.Baseline(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                    throw ValidationError("--baselines '\(baselines)': expected persistence, extrapolation, both comma-separated, or none")
                }
                return b
            }
        } else {
            c.baselines = []
        }
        c.thresholds = try numberList(thresholds, flag: "--thresholds", example: "0.5,1,5")
        c.scales = try numberList(scales, flag: "--scales", example: "1,4,16")
        switch comparison {
        case "above": c.rules.comparison = .above
        case "at-or-above": c.rules.comparison = .atOrAbove
        default: throw ValidationError("--comparison '\(comparison)': expected above or at-or-above")
        }
        c.commonPixels = commonPixels
        switch missing ?? (commonPixels ? "left-out" : "no-rain") {
        case "no-rain": c.rules.categoricalMissing = .noRain
        case "left-out": c.rules.categoricalMissing = .leftOut
        default: throw ValidationError("--missing '\(missing ?? "")': expected no-rain or left-out")
        }
        (c.bins, c.decibel, c.motionFrames, c.forecastVariable) = (bins, dbr, motionFrames, forecastVariable)
        return c
    }

    func plotFormats() throws -> [PlotFormat] {
        if plots == "none" { return [] }
        return try plots.split(separator: ",").map {
            guard let format = PlotFormat(rawValue: String($0)) else { throw ValidationError("--plots '\(plots)': expected png, svg, png,svg or none") }
            return format
        }
    }

    func run() throws {
        let formats = try plotFormats()
        let started = Date()
        let report: VerificationReport
        var facts: [String] = []
        if !merge.isEmpty {
            guard forecasts.isEmpty, observations.isEmpty else { throw ValidationError("--merge combines reports; give it without --forecast and --obs") }
            report = try VerificationOutput.merge(merge)
            facts.append("merged     \(merge.count) reports")
        } else {
            let job = VerificationJob(config: try resolved())
            job.progress = Progress.callback("verify", unit: "products")
            job.log = { printError($0) }
            let result = try job.run()
            report = result.report
            facts.append("verified   \(result.products) products from \(result.referenceTimes) reference times; \(result.gridMatch)")
        }
        let written = try VerificationOutput.write(report, to: output, formats: formats)
        print(VerificationReportTable.render(report))
        print("")
        for line in facts { print(line) }
        print("report     \(output): \(written.map { ($0 as NSString).lastPathComponent }.joined(separator: " "))")
        print("time       \(String(format: "%.2f", Date().timeIntervalSince(started))) s, peak RSS \(peakResidentMegabytes()) MB")
    }
}
