/// The members' fields interleaved pixel by pixel (`values[i * M + k]` is member k at pixel i), so
/// that per-pixel ensemble scores read one contiguous run per pixel.
func pixelMajor(_ ensemble: [[Float]]) -> [Float] {
    let m = ensemble.count
    guard let n = ensemble.first?.count else { return [] }
    var packed = [Float](repeating: 0, count: m * n)
    packed.withUnsafeMutableBufferPointer { out in
        for (k, member) in ensemble.enumerated() {
            member.withUnsafeBufferPointer { field in
                for i in 0..<min(n, field.count) { out[i * m + k] = field[i] }
            }
        }
    }
    return packed
}
