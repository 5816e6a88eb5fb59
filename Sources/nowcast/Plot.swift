import ArgumentParser
import Foundation
import NowcastForecast
import NowcastPlot

/// `nowcast plot`: a quicklook map of an observation or a forecast product's field.
struct Plot: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw a quicklook map (PNG or SVG) of an observation, a forecast member, the ensemble mean or an exceedance probability.",
        discussion: helpExamples(
            "nowcast plot /data/radar/20201031_0600.nc -o obs.png",
            "nowcast plot ensemble.nc --kind mean --lead 6 -o mean.png",
            "nowcast plot ensemble.nc --kind probability --threshold 1 --lead 12 -o p1.svg"))

    @Argument(help: "A field file (any format nowcast reads) or a forecast product.")
    var file: String

    @Option(help: "observation (default for field files), member, mean or probability (forecast products).")
    var kind: String = "observation"

    @Option(help: "Observation files: the frame's index in the file.")
    var frame = 0

    @Option(help: "Products: the member's index (0-based).")
    var member = 0

    @Option(help: "Products: the lead time (1-based).")
    var lead = 1

    @Option(help: "Probability maps: the event threshold in the product's units.")
    var threshold = 1.0

    @OptionGroup var field: FieldOptions

    @Option(name: [.short, .long], help: "The map file: .png or .svg.")
    var output: String

    func run() throws {
        guard let kind = Quicklook.Kind(rawValue: kind) else {
            throw ValidationError("--kind '\(self.kind)': expected \(Quicklook.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let map = try Quicklook.map(path: file, kind: kind, frame: frame, member: member, lead: lead, threshold: threshold, options: try field.readOptions())
        try map.write(to: output)
        print("map        \(output): \(map.title)")
    }
}
