import NowcastNN

/// Dense pyramidal Lucas-Kanade optical flow: one motion vector per pixel from two or more
/// consecutive fields, assuming the motion holds over them (as pySTEPS's methods do).
///
/// The grid is halved (2 x 2 means) down to a coarsest level of about `coarsestSide` pixels. From
/// the coarsest level up, the motion found so far is doubled onto the finer grid and refined
/// `iterations` times: the later field of each consecutive pair is read at the displaced positions,
/// and the increment solves the Lucas-Kanade normal equations summed over a (2 `windowRadius` + 1)²
/// window and over all pairs, with a Tikhonov term (`regularization` times the mean gradient energy)
/// so flat areas get no increment instead of noise. Each level ends with a confidence-weighted
/// smoothing (normalised convolution by the smaller eigenvalue of the structure tensor, box
/// `smoothingRadius` applied `smoothingPasses` times, pulled towards the coarser level's motion where
/// no window has texture, and at the coarsest level towards the domain's weighted mean): dry areas
/// and uniform rain take the motion of the rain edges around them. Missing pixels (NaN) are read as `missing`, normally the no-rain value of the fields.
public struct DenseLucasKanade: Sendable {
    /// The method's parameters; the defaults are tuned for radar fields in dBR at 1 km / 5-10 min.
    public struct Settings: Codable, Equatable, Sendable {
        /// The coarsest level is the last halving whose shorter side is at least this.
        public var coarsestSide = 32
        /// Half-width of the Lucas-Kanade window, in pixels of each level.
        public var windowRadius = 15
        /// Refinements per level.
        public var iterations = 3
        /// Tikhonov weight relative to the mean of the structure tensor's trace.
        public var regularization: Float = 0.05
        /// Half-width of the smoothing box after each level, in pixels of that level.
        public var smoothingRadius = 10
        /// Passes of the smoothing box (two passes give a triangle, three nearly a Gaussian).
        public var smoothingPasses = 2
        /// Weight of the coarser level's motion (at the coarsest level, the domain's mean motion)
        /// against the local estimates, relative to the mean smoothed confidence.
        public var priorWeight: Float = 0.01

        public init() {}
    }

    public var settings: Settings

    public init(settings: Settings = Settings()) { self.settings = settings }

    /// The motion per step of `frames` (oldest first, two or more, `ny * nx` values each).
    public func motion(_ frames: [[Float]], ny: Int, nx: Int, missing: Float) throws -> MotionField {
        try MotionField.checkEstimatorInput(frames, ny: ny, nx: nx, missing: missing)
        var levels = [Level(frames.map { $0.map { $0.isNaN ? missing : $0 } }, ny: ny, nx: nx)]
        while let last = levels.last, min(last.ny, last.nx) / 2 >= max(2, settings.coarsestSide) {
            levels.append(last.halved())
        }
        var flow: MotionField?
        for level in levels.reversed() {
            let coarse = flow.map { level.upsampled($0) }
            var current = coarse ?? .uniform(ny: level.ny, nx: level.nx, u: 0, v: 0)
            var confidence: [Float] = []
            for _ in 0..<max(1, settings.iterations) {
                confidence = refine(&current, on: level)
            }
            flow = smoothed(current, confidence: confidence, prior: coarse)
        }
        return flow ?? .uniform(ny: ny, nx: nx, u: 0, v: 0)
    }

    /// One Lucas-Kanade step at `level`: adds the increment to `flow`, returns the confidence.
    private func refine(_ flow: inout MotionField, on level: Level) -> [Float] {
        let (ny, nx, count) = (level.ny, level.nx, level.ny * level.nx)
        // Per pixel: the structure tensor (xx, xy, yy) and the mismatch terms (xt, yt), summed over pairs.
        var terms = [Float](repeating: 0, count: 5 * count)
        for pair in 0..<(level.images.count - 1) {
            let fields = [level.images[pair], level.gradientX[pair], level.gradientY[pair],
                          level.images[pair + 1], level.gradientX[pair + 1], level.gradientY[pair + 1], flow.u, flow.v]
            withFieldPointers(fields) { f in
                let (first, firstX, firstY, next, nextX, nextY, u, v) = (f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7])
                terms.withUnsafeMutableBufferPointer { t in
                    let t = t.baseAddress!
                    Parallel.forEachRange(ny, grain: 4) { rows in
                        for i in (rows.lowerBound * nx)..<(rows.upperBound * nx) {
                            let tap = BilinearTap(y: Float(i / nx) + v[i], x: Float(i % nx) + u[i], height: ny, width: nx, boundary: .clamped)
                            let gx = 0.5 * (firstX[i] + tap.sample(nextX)), gy = 0.5 * (firstY[i] + tap.sample(nextY))
                            let e = tap.sample(next) - first[i]
                            t[i] += gx * gx; t[count + i] += gx * gy; t[2 * count + i] += gy * gy
                            t[3 * count + i] += gx * e; t[4 * count + i] += gy * e
                        }
                    }
                }
            }
        }
        let plane = { (k: Int) in Array(terms[(k * count)..<((k + 1) * count)]) }
        let r = settings.windowRadius
        let sums = (0..<5).map { BoxFilter.sums(plane($0), ny: ny, nx: nx, radius: r) }
        let (a, b, c, p, q) = (sums[0], sums[1], sums[2], sums[3], sums[4])
        var trace = 0.0
        for i in 0..<count { trace += Double(a[i] + c[i]) }
        let lambda = settings.regularization * Float(trace / Double(2 * count)) + 1e-12
        let limit = Float(max(1, r))
        var confidence = [Float](repeating: 0, count: count)
        for i in 0..<count {
            let (aa, cc) = (a[i] + lambda, c[i] + lambda)
            let det = aa * cc - b[i] * b[i]
            guard det > 0 else { continue }
            let du = -(cc * p[i] - b[i] * q[i]) / det, dv = -(aa * q[i] - b[i] * p[i]) / det
            flow.u[i] += min(max(du, -limit), limit)
            flow.v[i] += min(max(dv, -limit), limit)
            let half = 0.5 * (a[i] + c[i]), spread = (0.25 * (a[i] - c[i]) * (a[i] - c[i]) + b[i] * b[i]).squareRoot()
            confidence[i] = max(0, half - spread)
        }
        return confidence
    }

    /// Normalised convolution of `flow` by `confidence`, pulled weakly towards `prior` (the coarser
    /// level's motion; the domain's confidence-weighted mean at the coarsest level).
    private func smoothed(_ flow: MotionField, confidence: [Float], prior: MotionField?) -> MotionField {
        let (ny, nx, r) = (flow.ny, flow.nx, settings.smoothingRadius)
        func smooth(_ values: [Float]) -> [Float] {
            var out = values
            for _ in 0..<max(1, settings.smoothingPasses) { out = BoxFilter.sums(out, ny: ny, nx: nx, radius: r) }
            return out
        }
        let weight = smooth(confidence)
        let weightedU = smooth(zip(flow.u, confidence).map { $0 * $1 }), weightedV = smooth(zip(flow.v, confidence).map { $0 * $1 })
        let prior = prior ?? {
            var total = 0.0, sumU = 0.0, sumV = 0.0
            for i in confidence.indices {
                total += Double(confidence[i])
                sumU += Double(confidence[i] * flow.u[i])
                sumV += Double(confidence[i] * flow.v[i])
            }
            return total > 0 ? .uniform(ny: ny, nx: nx, u: Float(sumU / total), v: Float(sumV / total)) : .uniform(ny: ny, nx: nx, u: 0, v: 0)
        }()
        let kappa = settings.priorWeight * Float(weight.reduce(0.0) { $0 + Double($1) } / Double(weight.count)) + 1e-30
        var result = flow
        for i in confidence.indices {
            let w = weight[i] + kappa
            result.u[i] = (weightedU[i] + kappa * prior.u[i]) / w
            result.v[i] = (weightedV[i] + kappa * prior.v[i]) / w
        }
        return result
    }
}

/// One level of the image pyramid: the fields and their centred-difference gradients.
private struct Level {
    let ny: Int, nx: Int
    let images: [[Float]]
    let gradientX: [[Float]]
    let gradientY: [[Float]]

    init(_ images: [[Float]], ny: Int, nx: Int) {
        (self.ny, self.nx, self.images) = (ny, nx, images)
        gradientX = images.map { Level.gradient($0, ny: ny, nx: nx, alongRows: true) }
        gradientY = images.map { Level.gradient($0, ny: ny, nx: nx, alongRows: false) }
    }

    /// The next coarser level: 2 x 2 means (the last row or column alone when the size is odd).
    func halved() -> Level {
        let (cy, cx) = ((ny + 1) / 2, (nx + 1) / 2)
        let coarse = images.map { image in
            var out = [Float](repeating: 0, count: cy * cx)
            for y in 0..<cy {
                let (y0, y1) = (2 * y, min(2 * y + 1, ny - 1))
                for x in 0..<cx {
                    let (x0, x1) = (2 * x, min(2 * x + 1, nx - 1))
                    out[y * cx + x] = 0.25 * (image[y0 * nx + x0] + image[y0 * nx + x1] + image[y1 * nx + x0] + image[y1 * nx + x1])
                }
            }
            return out
        }
        return Level(coarse, ny: cy, nx: cx)
    }

    /// `coarse` (the level above) read at this level's pixel centres and doubled.
    func upsampled(_ coarse: MotionField) -> MotionField {
        var result = MotionField.uniform(ny: ny, nx: nx, u: 0, v: 0)
        coarse.u.withUnsafeBufferPointer { u in
            coarse.v.withUnsafeBufferPointer { v in
                for y in 0..<ny {
                    for x in 0..<nx {
                        let tap = BilinearTap(y: (Float(y) - 0.5) / 2, x: (Float(x) - 0.5) / 2,
                                              height: coarse.ny, width: coarse.nx, boundary: .clamped)
                        result.u[y * nx + x] = 2 * tap.sample(u.baseAddress!)
                        result.v[y * nx + x] = 2 * tap.sample(v.baseAddress!)
                    }
                }
            }
        }
        return result
    }

    /// Centred differences inside, one-sided at the edges.
    static func gradient(_ image: [Float], ny: Int, nx: Int, alongRows: Bool) -> [Float] {
        var out = [Float](repeating: 0, count: ny * nx)
        for y in 0..<ny {
            for x in 0..<nx {
                if alongRows {
                    let (a, b) = (max(0, x - 1), min(nx - 1, x + 1))
                    out[y * nx + x] = (image[y * nx + b] - image[y * nx + a]) / Float(b - a)
                } else {
                    let (a, b) = (max(0, y - 1), min(ny - 1, y + 1))
                    out[y * nx + x] = (image[b * nx + x] - image[a * nx + x]) / Float(b - a)
                }
            }
        }
        return out
    }
}
