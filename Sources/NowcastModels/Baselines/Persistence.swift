import NowcastData
import NowcastNN

/// The persistence nowcast of a batch, the baseline every model is compared with: the last input
/// frame held for every target frame.
public struct Persistence {
    /// The last input frame (filled) repeated over the target frames, `[N, T_out, 1, H, W]`.
    public let forecast: Tensor
    /// The last input frame as stored (NaN where missing), per sample `[N, H, W]`.
    public let lastInputs: [Float]

    public init(_ batch: Batch, fill: MissingFill) throws {
        let (n, tIn, tOut, plane) = (batch.count, batch.inputFrames, batch.targetFrames, batch.height * batch.width)
        var last = [Float](), repeated = [Float]()
        last.reserveCapacity(n * plane)
        repeated.reserveCapacity(n * tOut * plane)
        for b in 0..<n {
            let source = (b * tIn + tIn - 1) * plane
            let frame = batch.inputs[source..<(source + plane)]
            last += frame
            for _ in 0..<tOut { repeated += frame }
        }
        lastInputs = last
        forecast = try Tensor(shape: batch.targetShape, values: fill.filled(repeated))
    }
}
