import ArgumentParser
import Foundation
import NowcastIO

/// `nowcast bench`: release-build throughput measurements with parseable output.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure throughput (build with -c release).", subcommands: [BenchRead.self])
}

/// `nowcast bench read`: NetCDF read throughput, frame by frame, as `bench_nc.py` times the Python readers.
struct BenchRead: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "read",
        abstract: "Read every frame of a NetCDF field and print MB/s (uncompressed Float32 bytes per second, open included).")

    @Argument(help: "A CF NetCDF file with a (time, y, x) or (y, x) field.")
    var file: String

    @Option(help: "Variable to read; default: the one field variable.")
    var variable: String?

    @Option(help: "Timed runs; the median is reported.")
    var runs: Int = 5

    @Flag(help: "Print one JSON line instead of text.")
    var json = false

    func run() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        let options = FieldReadOptions(variable: variable)
        var checksum = 0.0
        var bytes = 0
        // One untimed warm-up run (page cache, library initialisation), then the timed ones.
        var times: [Double] = []
        for run in 0...runs {
            let started = DispatchTime.now().uptimeNanoseconds
            let file = try CFFieldFile(path: self.file, options: options)
            let count = file.grid.ny * file.grid.nx
            var buffer = [Float](repeating: 0, count: count)
            var sum = 0.0
            try buffer.withUnsafeMutableBufferPointer { values in
                for index in 0..<file.frameCount {
                    try file.readFrame(index, into: values)
                    if run == 0 { for v in values where !v.isNaN { sum += Double(v) } }
                }
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            if run == 0 {
                checksum = sum
                bytes = file.frameCount * count * 4
            } else {
                times.append(seconds)
            }
        }
        let median = times.sorted()[times.count / 2]
        let mbps = Double(bytes) / 1e6 / median
        if json {
            let fields = "\"method\": \"nowcastkit_step\", \"runs\": \(runs), \"median_s\": \(median), \"min_s\": \(times.min() ?? median), "
                + "\"MBps_uncompressed\": \(mbps), \"bytes\": \(bytes), \"checksum\": \(checksum)"
            print("{\(fields)}")
        } else {
            print(String(format: "nowcastkit_step  median %.3f s  %.0f MB/s  (min %.3f s, %d runs, %d MB, checksum %.6e)",
                         median, mbps, times.min() ?? median, runs, bytes / 1_000_000, checksum))
        }
    }
}
