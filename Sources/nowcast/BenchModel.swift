import ArgumentParser
import Foundation
import NowcastCore
import NowcastModels
import NowcastNN

/// Options shared by `nowcast bench train` and `bench infer`.
struct ModelBenchOptions: ParsableArguments {
    enum Model: String, ExpressibleByArgument { case convlstm, unet }

    @Option(help: "convlstm or unet (the reference models of ../shared/bench/models.py).") var model: Model = .convlstm
    @Option(help: "Height and width.") var size: Int = 64
    @Option(help: "Samples per batch.") var batch: Int = 8
    @Option(help: "Timed iterations (after 2 warm-up ones); the median is reported.") var iters: Int = 5
    @Flag(help: "Print one JSON line.") var json = false

    /// Times `iters` steps of `train` or inference and prints samples/s and GFLOP/s.
    func run(training: Bool) throws {
        guard size >= 8, batch >= 1, iters >= 1 else { throw ValidationError("--size >= 8, --batch >= 1 and --iters >= 1") }
        var random = SeededGenerator(seed: 1)
        let parameters: [Variable], forward: (Variable) throws -> Variable, macs: Int, input: [Int], output: [Int]
        switch model {
        case .convlstm:
            let m = try RecurrentNowcaster(config: RecurrentConfig(), seed: 1)
            (parameters, forward, macs) = (m.parameters, { try m($0) }, m.convolutionMACs(height: size, width: size))
            (input, output) = ([batch, 4, 1, size, size], [batch, 4, 1, size, size])
        case .unet:
            let m = try UNet(config: UNetConfig(), seed: 1)
            (parameters, forward, macs) = (m.parameters, { try m($0) }, m.convolutionMACs(height: size, width: size))
            (input, output) = ([batch, 4, size, size], [batch, 1, size, size])
        }
        let x = Variable(Initializer.uniform(input, in: 0..<1, using: &random))
        let y = Variable(Initializer.uniform(output, in: 0..<1, using: &random))
        var adam = Adam(learningRate: 1e-3)
        var times: [Double] = []
        for iteration in 0..<(iters + 2) {
            let started = DispatchTime.now().uptimeNanoseconds
            if training {
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
        // bench_torch.py's convention: forward = 2 x conv MACs, training = 3 x forward.
        let gflop = samples * Double(macs) * 2 * (training ? 3 : 1) / 1e9
        let mode = training ? "train" : "infer"
        if json {
            print("{\"model\": \"\(model.rawValue)\", \"size\": \(size), \"batch\": \(batch), \"mode\": \"\(mode)\", \"samples_per_s\": \(samples), "
                + "\"gflop_per_s\": \(gflop), \"kernels\": \"\(convolutionKernelDescription)\"}")
        } else {
            print(String(format: "%@ %@ %dx%d batch %d: %.2f samples/s, %.1f GFLOP/s (median of %d; conv: %@)",
                         model.rawValue, mode, size, size, batch, samples, gflop, iters, convolutionKernelDescription))
        }
    }
}

/// `nowcast bench train`: training throughput of a reference model (zero_grad + forward + MSE +
/// backward + Adam, as bench_torch.py times PyTorch).
struct BenchTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Training samples/s and GFLOP/s of a reference model (training FLOPs = 3 x forward conv FLOPs).",
        discussion: helpExamples("nowcast bench train --model convlstm --size 128 --batch 8 --iters 5"))
    @OptionGroup var options: ModelBenchOptions
    func run() throws { try options.run(training: true) }
}

/// `nowcast bench infer`: inference throughput of a reference model (forward pass, no graph).
struct BenchInfer: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "infer", abstract: "Inference samples/s and GFLOP/s of a reference model.",
                                                    discussion: helpExamples("nowcast bench infer --model unet --size 256 --json"))
    @OptionGroup var options: ModelBenchOptions
    func run() throws { try options.run(training: false) }
}
