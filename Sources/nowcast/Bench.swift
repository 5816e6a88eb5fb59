import ArgumentParser
import Foundation
import NowcastIO

/// `nowcast bench`: release-build throughput measurements with parseable output.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure throughput (build with -c release).",
        discussion: helpExamples("nowcast bench train --model convlstm --size 128", "nowcast bench read /tmp/archive/synth_20240601_000000.nc"),
        subcommands: [BenchRead.self, BenchStream.self, BenchTrain.self, BenchInfer.self, BenchConv.self, BenchExtrapolation.self])
}

/// `nowcast bench read`: NetCDF read throughput of every frame, as `bench_nc.py` times the Python readers.
struct BenchRead: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "read",
        abstract: "Read every frame of a NetCDF field and print MB/s (uncompressed Float32 bytes per second, open included).",
        discussion: """
        Three ways are timed, each a full pass that opens the file and decodes every frame to Float32 with NaN for missing:
          library_step     nc_get_vara frame by frame (the netCDF-C path netCDF4-python also takes)
          direct_step      each frame's chunk decoded by NowcastKit (libdeflate), frame by frame, one core
          direct_parallel  the same, several frames at once on every core (what FrameSeries readers use)

        """ + helpExamples("nowcast bench read /tmp/archive/synth_20240601_000000.nc --runs 5"))

    @Argument(help: "A CF NetCDF file with a (time, y, x) or (y, x) field.")
    var file: String

    @Option(help: "Variable to read; default: the one field variable.")
    var variable: String?

    @Option(help: "Timed runs per method; the median is reported.")
    var runs: Int = 5

    @Option(help: "Decoding threads of direct_parallel (default: the number of cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Flag(help: "Print one JSON line per method instead of text.")
    var json = false

    private enum Method: String, CaseIterable { case libraryStep = "library_step", directStep = "direct_step", directParallel = "direct_parallel" }

    func run() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        let options = FieldReadOptions(variable: variable)
        let probe = try CFFieldFile(path: file, options: options)
        let bytes = probe.frameCount * probe.grid.ny * probe.grid.nx * 4
        if !json {
            print("file \(file): \(probe.frameCount) frames of \(probe.grid.ny) x \(probe.grid.nx), \(bytes / 1_000_000) MB as Float32; "
                + "direct chunk decoding \(probe.supportsDirectChunkReads ? "applies" : "does not apply (library path only)"); \(threads) threads")
        }
        var times: [Method: [Double]] = [:]
        var checksums: [Method: Double] = [:]
        // Interleaved: one run of each method per round, so machine noise hits all alike. Round 0 warms up.
        for round in 0...runs {
            for method in Method.allCases {
                let (seconds, checksum) = try pass(method, options: options, checksum: round == 0)
                if round == 0 { checksums[method] = checksum } else { times[method, default: []].append(seconds) }
            }
        }
        let reference = checksums[.libraryStep] ?? 0
        for method in Method.allCases {
            let samples = times[method] ?? []
            let median = samples.sorted()[samples.count / 2]
            let mbps = Double(bytes) / 1e6 / median
            let checksum = checksums[method] ?? .nan
            let agrees = checksum == reference
            if json {
                print("{\"method\": \"\(method.rawValue)\", \"runs\": \(runs), \"median_s\": \(median), \"min_s\": \(samples.min() ?? median), "
                    + "\"MBps_uncompressed\": \(mbps), \"bytes\": \(bytes), \"checksum\": \(checksum), \"checksum_ok\": \(agrees), \"threads\": \(method == .directParallel ? threads : 1)}")
            } else {
                print(method.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0)
                    + String(format: " median %.3f s  %4.0f MB/s  (min %.3f s, %d runs, checksum %.6e%@)", median, mbps,
                             samples.min() ?? median, runs, checksum, agrees ? "" : "  CHECKSUM MISMATCH"))
            }
        }
    }

    /// One full pass; returns seconds and, when asked, the sum of the valid values.
    private func pass(_ method: Method, options: FieldReadOptions, checksum: Bool) throws -> (Double, Double) {
        let started = DispatchTime.now().uptimeNanoseconds
        let reader = try CFFieldFile(path: file, options: options)
        reader.directChunkReads = method != .libraryStep
        let size = reader.grid.ny * reader.grid.nx
        let batch = method == .directParallel ? max(1, threads) * 2 : 1
        var buffer = [Float](repeating: 0, count: size * batch)
        var sum = 0.0
        try buffer.withUnsafeMutableBufferPointer { values in
            var start = 0
            while start < reader.frameCount {
                let range = start..<min(reader.frameCount, start + batch)
                if method == .directParallel {
                    try reader.readFrames(range, into: values, threads: threads)
                } else {
                    try reader.readFrame(start, into: values)
                }
                if checksum { for v in values.prefix(range.count * size) where !v.isNaN { sum += Double(v) } }
                start = range.upperBound
            }
        }
        return (Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9, sum)
    }
}
