import ArgumentParser
import Foundation
import NowcastData
import NowcastForecast
import NowcastIO
import NowcastNN
import NowcastPhysics

/// `nowcast bench extrapolation`: motion estimation and semi-Lagrangian extrapolation timed on real
/// frames, as `../shared/bench/pysteps/bench_motion_extrap.py` times pySTEPS's LK and `semilagrangian`.
struct BenchExtrapolation: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extrapolation",
        abstract: "Time motion estimation (Lucas-Kanade or variational) and semi-Lagrangian extrapolation on an archive's frames (median of runs).",
        discussion: helpExamples("nowcast bench extrapolation --input /data/bom --transform rate:10 --transform dbr:0.1:-15 --time 2020-10-31T06:00:00Z"))

    @Option(name: .customLong("input"), help: "A file, folder or glob pattern of the archive (repeatable).")
    var inputs: [String] = []

    @OptionGroup var field: FieldOptions

    @Option(help: "Time of the latest frame, ISO 8601, or latest.")
    var time = "latest"

    @Option(name: .customLong("transform"), help: "Working space, convert's transforms in order (repeatable; default dbr:0.1:-15).")
    var transforms: [String] = []

    @Option(help: "Frames the motion is estimated from.")
    var motionFrames = 3

    @Option(help: "Motion method: lucas-kanade or variational.")
    var motion = MotionMethod.lucasKanade

    @Option(help: "Extrapolation steps.")
    var leadtimes = 12

    @Option(help: "Timed runs after one warm-up; the median is reported.")
    var runs = 5

    @Flag(help: "Print one JSON line per measurement instead of text.")
    var json = false

    func run() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        var config = ForecastConfig()
        config.inputs = inputs
        config.time = time
        if !transforms.isEmpty { config.transforms = transforms }
        let chain = try config.transformChain()
        let series = try FrameSeries(files: try ArchiveListing.files(inputs), options: try field.readOptions())
        let frames = try ForecastInputs(series: series, count: motionFrames, time: try config.referenceTime()).frames.map { frame -> [Float] in
            var values = frame.values
            values.withUnsafeMutableBufferPointer { chain.forward($0) }
            return values
        }
        let (ny, nx) = (series.grid.ny, series.grid.nx)
        let noRain = MissingFill(transforms: chain).value
        var motionTimes: [Double] = [], advectionTimes: [Double] = []
        var field = MotionField.uniform(ny: ny, nx: nx, u: 0, v: 0)
        for round in 0...runs {
            var start = Date()
            field = try motion.motion(frames, ny: ny, nx: nx, missing: noRain)
            let motionSeconds = Date().timeIntervalSince(start)
            start = Date()
            var advector = SemiLagrangian(ny: ny, nx: nx)
            for _ in 0..<leadtimes {
                try advector.step(by: field)
                _ = try advector.advect(frames[frames.count - 1])
            }
            if round > 0 {
                motionTimes.append(motionSeconds)
                advectionTimes.append(Date().timeIntervalSince(start))
            }
        }
        let speed = field.speed
        for (name, samples) in [("motion", motionTimes), ("extrapolation", advectionTimes)] {
            let sorted = samples.sorted(), median = sorted[sorted.count / 2]
            if json {
                print("{\"name\": \"\(name)\", \"grid\": [\(ny), \(nx)], \"frames\": \(frames.count), \"leadtimes\": \(leadtimes), \"runs\": \(runs), "
                    + "\"median_s\": \(median), \"min_s\": \(sorted[0]), \"max_s\": \(sorted[sorted.count - 1]), \"threads\": \(Parallel.workers)}")
            } else {
                print(name.padding(toLength: 14, withPad: " ", startingAt: 0)
                    + String(format: " median %.4f s  (min %.4f, max %.4f, %d runs, %d threads)", median, sorted[0], sorted[sorted.count - 1], runs, Parallel.workers))
            }
        }
        if !json { print(String(format: "speed px/step: mean %.3f, max %.3f; grid %d x %d, %d motion frames, %d steps", speed.mean, speed.max, ny, nx, frames.count, leadtimes)) }
    }
}
extension MotionMethod: ExpressibleByArgument {}
