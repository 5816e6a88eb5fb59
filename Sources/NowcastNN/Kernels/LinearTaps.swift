/// Source taps of linear interpolation along one axis, as PyTorch's `interpolate(mode="bilinear",
/// align_corners=False)` places them: output `o` reads `(o + 0.5) / scale - 0.5` (clamped at 0).
struct LinearTaps {
    var lower: [Int], upper: [Int], weight: [Float]

    init(input: Int, scale: Int) {
        (lower, upper, weight) = ([], [], [])
        for o in 0..<(input * scale) {
            let source = max(0, (Float(o) + 0.5) / Float(scale) - 0.5)
            let l = min(Int(source), input - 1)
            lower.append(l)
            upper.append(min(l + 1, input - 1))
            weight.append(source - Float(l))
        }
    }
}
