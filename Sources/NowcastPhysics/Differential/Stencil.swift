import NowcastNN

/// A linear finite-difference stencil on the [H, W] planes of a field: out[y, x] = sum of
/// weight * in[y + dy, x + dx] over its taps, ghost points read by each axis's `GridBoundary`.
///
/// `apply` pads each plane with the ghosts the stencil reaches and runs the taps over the padded
/// plane without a branch; `applyTransposed` (the backward pass) runs the mirrored taps over the
/// zero-padded gradient and folds the ghosts' share back onto the points they copy (a fixed value
/// takes none). `referenceApply` and `referenceApplyTransposed` are the plain per-point versions
/// they are tested against.
public struct Stencil: Sendable, Equatable {
    public struct Tap: Sendable, Equatable {
        public var dy: Int, dx: Int, weight: Float
        public init(dy: Int, dx: Int, weight: Float) { (self.dy, self.dx, self.weight) = (dy, dx, weight) }
    }

    public var taps: [Tap]
    public init(_ taps: [Tap]) { self.taps = taps.filter { $0.weight != 0 } }

    /// The widest reach along y and x.
    public var reach: (y: Int, x: Int) { (taps.map { abs($0.dy) }.max() ?? 0, taps.map { abs($0.dx) }.max() ?? 0) }

    /// The stencil times `factor`.
    public func scaled(by factor: Float) -> Stencil { Stencil(taps.map { Tap(dy: $0.dy, dx: $0.dx, weight: $0.weight * factor) }) }

    /// Taps of both stencils, added.
    public static func + (a: Stencil, b: Stencil) -> Stencil { Stencil(a.taps + b.taps) }

    /// The stencil on every plane of `input` (`planes` planes of `height` x `width`) into `output`.
    public func apply(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, planes: Int, height h: Int, width w: Int,
                      y: GridBoundary, x: GridBoundary) {
        let (ry, rx) = reach
        let (ph, pw) = (h + 2 * ry, w + 2 * rx)
        let taps = self.taps.map { (offset: $0.dy * pw + $0.dx, weight: $0.weight) }
        Parallel.forEachRange(planes, grain: 1) { range in
            var padded = [Float](repeating: 0, count: ph * pw)
            padded.withUnsafeMutableBufferPointer { padded in
                let p = padded.baseAddress!
                for plane in range {
                    let source = input + plane * h * w, target = output + plane * h * w
                    for row in 0..<ph {
                        let sy = y.source(row - ry, count: h)
                        for column in 0..<pw {
                            let sx = x.source(column - rx, count: w)
                            if let sy, let sx {
                                p[row * pw + column] = source[sy * w + sx]
                            } else {
                                p[row * pw + column] = sy == nil ? y.fixedValue : x.fixedValue
                            }
                        }
                    }
                    for row in 0..<h {
                        let centre = p + (row + ry) * pw + rx, out = target + row * w
                        for column in 0..<w { out[column] = 0 }
                        for tap in taps {
                            let read = centre + tap.offset
                            for column in 0..<w { out[column] += tap.weight * read[column] }
                        }
                    }
                }
            }
        }
    }

    /// The transposed stencil (the gradient of `apply` with respect to its input): `gradient`, one
    /// value per output point, back onto the input points into `output`.
    public func applyTransposed(_ gradient: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, planes: Int, height h: Int, width w: Int,
                                y: GridBoundary, x: GridBoundary) {
        let (ry, rx) = reach
        let (ph, pw) = (h + 2 * ry, w + 2 * rx)
        // Mirrored taps over the gradient padded by the reach with zeros: the padded input's gradient.
        let (gh, gw) = (ph + 2 * ry, pw + 2 * rx)
        let taps = self.taps.map { (offset: -$0.dy * gw - $0.dx, weight: $0.weight) }
        Parallel.forEachRange(planes, grain: 1) { range in
            var spread = [Float](repeating: 0, count: gh * gw), ghosts = [Float](repeating: 0, count: ph * pw)
            spread.withUnsafeMutableBufferPointer { spread in
                ghosts.withUnsafeMutableBufferPointer { ghosts in
                    let (s, q) = (spread.baseAddress!, ghosts.baseAddress!)
                    for plane in range {
                        let g = gradient + plane * h * w, target = output + plane * h * w
                        for row in 0..<h {
                            let into = s + (row + 2 * ry) * gw + 2 * rx
                            for column in 0..<w { into[column] = g[row * w + column] }
                        }
                        for row in 0..<ph {
                            let out = q + row * pw, centre = s + (row + ry) * gw + rx
                            for column in 0..<pw { out[column] = 0 }
                            for tap in taps {
                                let read = centre + tap.offset
                                for column in 0..<pw { out[column] += tap.weight * read[column] }
                            }
                        }
                        // Interior points take their own share, ghosts add theirs to the points they read.
                        for row in 0..<h {
                            for column in 0..<w { target[row * w + column] = q[(row + ry) * pw + column + rx] }
                        }
                        for row in 0..<ph {
                            let inside = row >= ry && row < h + ry
                            for column in 0..<pw where !(inside && column >= rx && column < w + rx) {
                                if let sy = y.source(row - ry, count: h), let sx = x.source(column - rx, count: w) {
                                    target[sy * w + sx] += q[row * pw + column]
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The plain per-point `apply`.
    public func referenceApply(_ input: [Float], planes: Int, height h: Int, width w: Int, y: GridBoundary, x: GridBoundary) -> [Float] {
        var output = [Float](repeating: 0, count: input.count)
        for plane in 0..<planes { for row in 0..<h { for column in 0..<w {
            var sum: Float = 0
            for tap in taps {
                let (sy, sx) = (y.source(row + tap.dy, count: h), x.source(column + tap.dx, count: w))
                let value = sy.flatMap { sy in sx.map { input[plane * h * w + sy * w + $0] } } ?? (sy == nil ? y.fixedValue : x.fixedValue)
                sum += tap.weight * value
            }
            output[plane * h * w + row * w + column] = sum
        } } }
        return output
    }

    /// The plain per-point `applyTransposed`: each output point's gradient scattered onto the points its taps read.
    public func referenceApplyTransposed(_ gradient: [Float], planes: Int, height h: Int, width w: Int, y: GridBoundary, x: GridBoundary) -> [Float] {
        var output = [Float](repeating: 0, count: gradient.count)
        for plane in 0..<planes { for row in 0..<h { for column in 0..<w {
            for tap in taps {
                guard let sy = y.source(row + tap.dy, count: h), let sx = x.source(column + tap.dx, count: w) else { continue }
                output[plane * h * w + sy * w + sx] += tap.weight * gradient[plane * h * w + row * w + column]
            }
        } } }
        return output
    }
}
