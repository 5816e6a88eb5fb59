import ArgumentParser
import Foundation
import NowcastCore
import NowcastNN

/// `nowcast bench train` / `bench infer`: model throughput, with bench_torch.py's FLOP convention.
struct BenchModel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Training or inference throughput of the reference models (samples/s, GFLOP/s; training = 3 x forward conv FLOPs).")

    enum Model: String, ExpressibleByArgument { case convlstm, unet }
    enum Mode: String, ExpressibleByArgument { case train, infer }

    @Option(help: "convlstm or unet.") var model: Model = .convlstm
    @Option(help: "train or infer.") var mode: Mode = .train
    @Option(help: "Height and width.") var size: Int = 64
    @Option(help: "Samples per batch.") var batch: Int = 8
    @Option(help: "Timed iterations (after 2 warm-up ones); the median is reported.") var iters: Int = 5
    @Flag(help: "Print one JSON line.") var json = false

    func run() throws {
        guard size >= 8, batch >= 1, iters >= 1 else { throw ValidationError("--size >= 8, --batch >= 1 and --iters >= 1") }
        var random = SeededGenerator(seed: 1)
        let parameters: [Variable], forward: (Variable) throws -> Variable, macs: Int, input: [Int], output: [Int]
        switch model {
        case .convlstm:
            let m = try ConvLSTMNowcaster(config: ConvLSTMConfig(), seed: 1)
            (parameters, forward, macs) = (m.parameters, { try m($0) }, m.convolutionMACs(height: size, width: size))
            (input, output) = ([batch, 4, 1, size, size], [batch, 4, 1, size, size])
        case .unet:
            let m = try UNet(config: UNetConfig(), seed: 1)
            (parameters, forward, macs) = (m.parameters, { try m($0) }, m.convolutionMACs(height: size, width: size))
            (input, output) = ([batch, 4, size, size], [batch, 1, size, size])
        }
        let x = Variable(Initializer.xavierUniform(input, fanIn: 1, fanOut: 1, using: &random))
        let y = Variable(Initializer.xavierUniform(output, fanIn: 1, fanOut: 1, using: &random))
        var adam = Adam(learningRate: 1e-3)
        var times: [Double] = []
        for iteration in 0..<(iters + 2) {
            let started = DispatchTime.now().uptimeNanoseconds
            if mode == .train {
                parameters.forEach { $0.zeroGrad() }
                let loss = try forward(x).meanSquaredError(y)
                try loss.backward()
                try adam.step(parameters)
            } else {
                _ = try Gradients.disabled { try forward(x) }
            }
            if iteration >= 2 { times.append(Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9) }
        }
        let median = times.sorted()[times.count / 2]
        let samples = Double(batch) / median
        let gflop = samples * Double(macs) * 2 * (mode == .train ? 3 : 1) / 1e9
        if json {
            print("{\"model\": \"\(model.rawValue)\", \"size\": \(size), \"batch\": \(batch), \"mode\": \"\(mode.rawValue)\", \"samples_per_s\": \(samples), "
                + "\"gflop_per_s\": \(gflop), \"kernels\": \"\(convolutionKernelDescription)\"}")
        } else {
            print(String(format: "%@ %@ %dx%d batch %d: %.2f samples/s, %.1f GFLOP/s (median of %d; conv: %@)",
                         model.rawValue, mode.rawValue, size, size, batch, samples, gflop, iters, convolutionKernelDescription))
        }
    }
}
