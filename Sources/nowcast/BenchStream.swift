import ArgumentParser
import Foundation
import NowcastData

/// `nowcast bench stream`: how fast a BatchStream feeds batches from a store.
struct BenchStream: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stream",
        abstract: "Stream batches from a sample store and print samples/s (median over epochs) and peak memory.",
        discussion: helpExamples("nowcast bench stream /data/stores/2023 --batch 8 --epochs 3"))

    @Argument(help: "A sample store folder (made by nowcast convert).")
    var store: String

    @Option(help: "Split to stream.")
    var split: String = "train"

    @Option(help: "Samples per batch.")
    var batch: Int = 8

    @Option(help: "Shuffle buffer in samples.")
    var shuffleBuffer: Int = 256

    @Option(help: "Epochs timed; the median is reported.")
    var epochs: Int = 3

    @Flag(help: "Print one JSON line.")
    var json = false

    func run() throws {
        guard let split = Split(rawValue: split) else { throw ValidationError("--split '\(split)': expected train, validation or test") }
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1") }
        let stream = try BatchStream(store: try SampleStore(folder: store),
                                     options: BatchStreamOptions(split: split, batchSize: batch, shuffleBuffer: shuffleBuffer, seed: 1))
        var rates: [Double] = []
        var samples = 0
        var checksum = 0.0
        for epoch in 0..<epochs {
            let started = DispatchTime.now().uptimeNanoseconds
            let iterator = stream.epoch(epoch)
            samples = 0
            while let next = try iterator.next() {
                samples += next.count
                // Touch the data as a consumer would.
                checksum += Double(next.inputs[next.inputs.count / 2]) + Double(next.targets[0])
            }
            rates.append(Double(samples) / (Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9))
        }
        let median = rates.sorted()[rates.count / 2]
        let layout = stream.store.manifest.layout
        if json {
            print("{\"samples_per_s\": \(median), \"batches_per_s\": \(median / Double(batch)), \"samples\": \(samples), \"epochs\": \(epochs), "
                + "\"frames\": \"\(layout.inputs)+\(layout.targets)\", \"size\": \"\(layout.ny)x\(layout.nx)\", \"peak_rss_mb\": \(peakResidentMegabytes())}")
        } else {
            print(String(format: "stream %@: %d samples of %d+%d frames %dx%d per epoch, batch %d: median %.0f samples/s (%.1f batches/s), peak RSS %d MB",
                         split.rawValue, samples, layout.inputs, layout.targets, layout.ny, layout.nx, batch, median, median / Double(batch),
                         peakResidentMegabytes()))
        }
        _ = checksum
    }
}
