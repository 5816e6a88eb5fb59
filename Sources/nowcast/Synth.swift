import ArgumentParser
import Foundation
import NowcastIO
import NowcastSynthetic

/// `nowcast synth`: a realistic synthetic radar archive, deterministic per seed.
struct Synth: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a synthetic radar archive (rain cells and correlated fields advected by a varying flow), one file per step.",
        discussion: helpExamples("nowcast synth -o /tmp/archive --frames 288 --size 512,512 --step 5 --seed 1",
                                 "nowcast synth -o /tmp/odim --frames 24 --format odim"))

    @Option(name: .shortAndLong, help: "Output folder (created if missing).")
    var output: String

    @Option(help: "Number of time steps (files).")
    var frames: Int = 24

    @Option(help: "Grid size as NY,NX.")
    var size: String = "256,256"

    @Option(help: "Time step in minutes.")
    var step: Double = 5

    @Option(help: "Seed of every random choice.")
    var seed: UInt64 = 1

    @Option(help: "File format: netcdf (CF, int16 packed) or odim (ODIM_H5, uint16).")
    var format: SyntheticArchive.Format = .netcdf

    @Option(help: "Valid time of the first frame, ISO 8601 UTC.")
    var start: String = "2024-06-01T00:00:00Z"

    @Option(help: "Cell size in metres.")
    var cellSize: Double = 1000

    @Flag(help: "Leave the whole domain covered (no missing values outside a radar range).")
    var noCoverageMask = false

    func run() throws {
        let parts = size.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let ny = parts[0], let nx = parts[1] else {
            throw ValidationError("--size '\(size)': expected NY,NX, e.g. 512,512")
        }
        guard let startDate = UTCTime.parse(start) else {
            throw ValidationError("--start '\(start)': expected an ISO 8601 date-time such as 2024-06-01T00:00:00Z")
        }
        var settings = SyntheticRain.Settings(ny: ny, nx: nx, stepMinutes: step, seed: seed)
        settings.cellSize = cellSize
        settings.coverageMask = !noCoverageMask
        let archive = SyntheticArchive(rain: settings, frames: frames, start: startDate, format: format)
        let progress = Progress("synth", total: frames, unit: "frames")
        let paths = try archive.write(to: output) { progress.update($0) }
        print("wrote \(paths.count) \(format.rawValue) files of \(ny) x \(nx) to \(output), "
            + "\(UTCTime.iso8601(startDate)) every \(formatMinutes(step)) min, seed \(seed)")
    }
}

extension SyntheticArchive.Format: ExpressibleByArgument {}

/// Minutes without a needless fraction.
func formatMinutes(_ minutes: Double) -> String {
    minutes == minutes.rounded() ? String(Int(minutes)) : String(minutes)
}
