import ArgumentParser
import Foundation
import NowcastNN

/// `nowcast bench conv`: forward and backward throughput of one 3x3 convolution.
struct BenchConv: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "conv", abstract: "GFLOP/s of one convolution's forward, input-gradient and weight-gradient passes.",
                                                    discussion: helpExamples("nowcast bench conv --shape 8,33,128,64"))
    @Option(help: "N,C,O,H (3x3 kernel, padding 1, H x H images).") var shape: String = "8,16,16,128"
    @Option(help: "Timed iterations; the best is reported.") var iters: Int = 10

    func run() throws {
        let d = shape.split(separator: ",").compactMap { Int($0) }
        guard d.count == 4 else { throw ValidationError("--shape N,C,O,H (four whole numbers)") }
        guard iters >= 1 else { throw ValidationError("--iters >= 1") }
        for line in try convolutionThroughput(batch: d[0], inChannels: d[1], outChannels: d[2], size: d[3], iterations: iters) { print(line) }
    }
}
