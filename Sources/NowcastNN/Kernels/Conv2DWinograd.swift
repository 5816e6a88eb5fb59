/// 3x3 convolutions (stride 1, padding 1) by Winograd's minimal filtering F(2x2, 3x3): each 2x2 output
/// tile takes 16 multiplications per input and output channel pair instead of 36, as 16 matrix
/// products (one per point of the 4x4 transformed tile) through sgemm:
///
///     Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A     (d a 4x4 input tile, g a 3x3 kernel, Y a 2x2 output tile)
///
/// The forward pass transforms the weights once (U = G g Gᵀ, `[16][O][C]`), then per block of tiles the
/// input (V = Bᵀ d B, `[16][C][tiles]`), multiplies M[ξ] = U[ξ] V[ξ] and transforms M back. The input
/// gradient is the same computation on dY with the kernels flipped and their channels swapped. The
/// weight gradient transforms dY tiles (Z = A dY Aᵀ), sums Z[ξ] V[ξ]ᵀ over the tiles and maps the sum
/// back through Gᵀ · G. The transforms run 8 tiles at a time on vectors: each input row is copied once,
/// zero-padded, into its even and odd columns, from which the four columns of 8 tiles are contiguous
/// 8-float loads.
///
/// Where it applies (`applies`), it replaces im2col + sgemm, whose 9-fold im2col copy it also avoids;
/// results differ from the direct sum by rounding only (the transforms are exact in binary but for
/// the halves of G), and tests hold them to the reference loops.
enum Conv2DWinograd {
    /// Whether Winograd is used for `g` where a convolution runs on sgemm: 3x3, stride 1, dilation 1,
    /// padding 1, with enough channels on both sides for the 16 products to be worth their
    /// transforms, unless `NOWCAST_WINOGRAD=off`: from 8 channels on each side every pass beats
    /// im2col + sgemm, below that the input gradient loses (`nowcast bench conv`; figures in
    /// docs/PERFORMANCE.md).
    static func applies(_ g: Conv2DGeometry) -> Bool {
        enabled && g.kernelHeight == 3 && g.kernelWidth == 3 && g.stride == 1 && g.dilation == 1 && g.padding == 1
            && g.inChannels >= minimumChannels && g.outChannels >= minimumChannels
    }

    /// Fewest input and output channels for which `applies` picks Winograd.
    static let minimumChannels = 8

    /// `NOWCAST_WINOGRAD=auto` (the default) or `off` (benchmarks compare the two).
    static let enabled: Bool = EngineSetting.read("NOWCAST_WINOGRAD", expected: "auto or off", default: true) { ["auto": true, "off": false][$0] }

    /// Tiles per block a worker transforms and multiplies at once (its buffers stay within L2).
    static let tilesPerBlock = 256

    /// How an image's output splits into 2x2 tiles and blocks of tile rows.
    private struct Tiling {
        let tileRows, tileColumns, rowsPerBlock, blocksPerImage: Int
        /// Floats of the even (or odd) columns of a zero-padded row: one column of padding on the
        /// left, zeros past the right edge up to the last 8-float load.
        let halfWidth: Int

        init(_ g: Conv2DGeometry) {
            tileRows = (g.outHeight + 1) / 2
            tileColumns = (g.outWidth + 1) / 2
            rowsPerBlock = max(1, min(tileRows, Conv2DWinograd.tilesPerBlock / tileColumns))
            blocksPerImage = (tileRows + rowsPerBlock - 1) / rowsPerBlock
            halfWidth = (tileColumns + 7) / 8 * 8 + 16
        }

        /// Tile rows of block `block`.
        func rows(_ block: Int) -> Range<Int> { (block * rowsPerBlock)..<min(tileRows, (block + 1) * rowsPerBlock) }
        /// Most tiles in a block (the leading dimension of the transformed blocks).
        var blockTiles: Int { rowsPerBlock * tileColumns }
    }

    // MARK: Passes

    /// `y = conv(concat(parts), w) + b` (`y` overwritten).
    static func forward(_ g: Conv2DGeometry, input: Conv2DGEMM.Parts<UnsafePointer<Float>>, w: UnsafePointer<Float>, b: UnsafePointer<Float>?,
                        y: UnsafeMutablePointer<Float>) {
        let u = transformedWeights(w, outChannels: g.outChannels, inChannels: g.inChannels, flipped: false)
        let output = Conv2DGEMM.Parts(parts: [(y, g.outChannels)], plane: g.outHeight * g.outWidth)
        u.withUnsafeBufferPointer { run(g, input: input, u: $0.baseAddress!, inChannels: g.inChannels, outChannels: g.outChannels, bias: b, output: output) }
    }

    /// Gradients of `conv(concat(parts), w) + b` for `dy`: `dx` (each part overwritten) when given,
    /// `dw` and `db` (accumulated) when given.
    static func backward(_ g: Conv2DGeometry, input: Conv2DGEMM.Parts<UnsafePointer<Float>>, w: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                         dx: Conv2DGEMM.Parts<UnsafeMutablePointer<Float>>?, dw: UnsafeMutablePointer<Float>?, db: UnsafeMutablePointer<Float>?) {
        let outPlane = g.outHeight * g.outWidth
        if let dx {
            // The input gradient is the convolution of dy with the flipped kernels, channels swapped
            // (same size in and out: stride 1, padding 1).
            let u = transformedWeights(w, outChannels: g.outChannels, inChannels: g.inChannels, flipped: true)
            let gradient = Conv2DGEMM.Parts(parts: [(dy, g.outChannels)], plane: outPlane)
            u.withUnsafeBufferPointer { run(g, input: gradient, u: $0.baseAddress!, inChannels: g.outChannels, outChannels: g.inChannels, bias: nil, output: dx) }
        }
        if let db { Conv2DGEMM.addBiasGradient(g, dy: dy, db: db) }
        if let dw { weightGradient(g, input: input, dy: dy, dw: dw) }
    }

    /// The transform-multiply-transform loop of the forward pass (and of the input gradient): `u` holds
    /// the transformed kernels `[16][outChannels][inChannels]`; the output is overwritten.
    private static func run(_ g: Conv2DGeometry, input: Conv2DGEMM.Parts<UnsafePointer<Float>>, u: UnsafePointer<Float>, inChannels: Int, outChannels: Int,
                            bias: UnsafePointer<Float>?, output: Conv2DGEMM.Parts<UnsafeMutablePointer<Float>>) {
        let tiling = Tiling(g), ld = tiling.blockTiles
        let transformed = Scratch(workers: Parallel.workers, count: 16 * inChannels * ld)
        let products = Scratch(workers: Parallel.workers, count: 16 * outChannels * ld)
        let padded = Scratch(workers: Parallel.workers, count: 8 * tiling.halfWidth, zeroed: true)
        Parallel.forEach(g.batch * tiling.blocksPerImage) { unit, worker in
            let (n, rows) = (unit / tiling.blocksPerImage, tiling.rows(unit % tiling.blocksPerImage))
            let tiles = rows.count * tiling.tileColumns
            transformInput(g, tiling, input, image: n, channels: inChannels, rows: rows, padded: padded[worker], into: transformed[worker], ld: ld)
            for point in 0..<16 {
                sgemm(transposeA: false, transposeB: false, m: outChannels, n: tiles, k: inChannels, a: u + point * outChannels * inChannels, lda: inChannels,
                      b: transformed[worker] + point * inChannels * ld, ldb: ld, beta: 0, c: products[worker] + point * outChannels * ld, ldc: ld)
            }
            transformOutput(g, tiling, products[worker], ld: ld, channels: outChannels, image: n, rows: rows, bias: bias, into: output)
        }
    }

    /// `dw += Σ over tiles of Gᵀ (Z[ξ] V[ξ]ᵀ) G`, per worker then summed.
    private static func weightGradient(_ g: Conv2DGeometry, input: Conv2DGEMM.Parts<UnsafePointer<Float>>, dy: UnsafePointer<Float>,
                                       dw: UnsafeMutablePointer<Float>) {
        let tiling = Tiling(g), ld = tiling.blockTiles, pairs = g.outChannels * g.inChannels
        let workers = min(Parallel.workers, g.batch * tiling.blocksPerImage)
        let transformed = Scratch(workers: workers, count: 16 * g.inChannels * ld)
        let gradients = Scratch(workers: workers, count: 16 * g.outChannels * ld)
        let padded = Scratch(workers: workers, count: 8 * tiling.halfWidth, zeroed: true)
        let sums = Scratch(workers: workers, count: 16 * pairs, zeroed: true)
        Parallel.forEach(g.batch * tiling.blocksPerImage) { unit, worker in
            let (n, rows) = (unit / tiling.blocksPerImage, tiling.rows(unit % tiling.blocksPerImage))
            let tiles = rows.count * tiling.tileColumns
            transformInput(g, tiling, input, image: n, channels: g.inChannels, rows: rows, padded: padded[worker], into: transformed[worker], ld: ld)
            transformGradient(g, tiling, dy, image: n, rows: rows, padded: padded[worker], into: gradients[worker], ld: ld)
            for point in 0..<16 {
                sgemm(transposeA: false, transposeB: true, m: g.outChannels, n: g.inChannels, k: tiles, a: gradients[worker] + point * g.outChannels * ld, lda: ld,
                      b: transformed[worker] + point * g.inChannels * ld, ldb: ld, beta: 1, c: sums[worker] + point * pairs, ldc: g.inChannels)
            }
        }
        for worker in 1..<max(1, workers) {
            let (total, part) = (sums[0], sums[worker])
            for k in 0..<(16 * pairs) { total[k] += part[k] }
        }
        for pair in 0..<pairs { addKernelGradient(sums[0] + pair, pointStride: pairs, to: dw + pair * 9) }
    }

    // MARK: Transforms

    /// U = G g Gᵀ for every kernel, `[16][outChannels][inChannels]`. `flipped` gives the kernels of the
    /// input gradient instead: kernel (c, o) is kernel (o, c) rotated by 180 degrees.
    static func transformedWeights(_ w: UnsafePointer<Float>, outChannels: Int, inChannels: Int, flipped: Bool) -> [Float] {
        let pairs = outChannels * inChannels
        var u = [Float](repeating: 0, count: 16 * pairs)
        u.withUnsafeMutableBufferPointer { up in
            let u = up.baseAddress!
            for o in 0..<outChannels { for c in 0..<inChannels {
                let kernel = w + (o * inChannels + c) * 9
                @inline(__always) func k(_ i: Int, _ j: Int) -> Float { flipped ? kernel[8 - 3 * i - j] : kernel[3 * i + j] }
                // Columns of G k (4 rows each), then the columns of (G k) Gᵀ.
                @inline(__always) func column(_ j: Int) -> SIMD4<Float> {
                    let (a, b, d) = (k(0, j), k(1, j), k(2, j))
                    return SIMD4(a, 0.5 * (a + b + d), 0.5 * (a - b + d), d)
                }
                let (c0, c1, c2) = (column(0), column(1), column(2))
                let columns = (c0, 0.5 * (c0 + c1 + c2), 0.5 * (c0 - c1 + c2), c2)
                let at = flipped ? c * outChannels + o : o * inChannels + c
                for a in 0..<4 {
                    u[(4 * a) * pairs + at] = columns.0[a]
                    u[(4 * a + 1) * pairs + at] = columns.1[a]
                    u[(4 * a + 2) * pairs + at] = columns.2[a]
                    u[(4 * a + 3) * pairs + at] = columns.3[a]
                }
            } }
        }
        return u
    }

    /// Adds Gᵀ t G (the 3x3 kernel gradient from a 4x4 transformed one; `t[point]` at
    /// `t + point * pointStride`) to `kernel`.
    @inline(__always)
    static func addKernelGradient(_ t: UnsafePointer<Float>, pointStride: Int, to kernel: UnsafeMutablePointer<Float>) {
        @inline(__always) func row(_ a: Int) -> SIMD4<Float> {
            SIMD4(t[4 * a * pointStride], t[(4 * a + 1) * pointStride], t[(4 * a + 2) * pointStride], t[(4 * a + 3) * pointStride])
        }
        let (t0, t1, t2, t3) = (row(0), row(1), row(2), row(3))
        // Rows of Gᵀ t, then each row times G.
        @inline(__always) func add(_ i: Int, _ x: SIMD4<Float>) {
            kernel[3 * i] += x[0] + 0.5 * (x[1] + x[2])
            kernel[3 * i + 1] += 0.5 * (x[1] - x[2])
            kernel[3 * i + 2] += 0.5 * (x[1] + x[2]) + x[3]
        }
        add(0, t0 + 0.5 * (t1 + t2))
        add(1, 0.5 * (t1 - t2))
        add(2, 0.5 * (t1 + t2) + t3)
    }

    /// Splits row `row` of `plane` (zeros outside the image), padded by one zero column on the left,
    /// into its even columns (`target`) and odd ones (`target + half`): padded column `p` is column
    /// `p - 1` of the image. Entries past the row are never written (they stay zero).
    @inline(__always)
    private static func splitRow(_ plane: UnsafePointer<Float>, row: Int, height: Int, width: Int, half: Int, into target: UnsafeMutablePointer<Float>) {
        let (evens, odds) = (target, target + half)
        let (oddCount, evenCount) = ((width + 1) / 2, width / 2)  // image columns 0, 2, ... are odd padded ones
        guard row >= 0, row < height else {
            odds.update(repeating: 0, count: oddCount)
            (evens + 1).update(repeating: 0, count: evenCount)
            return
        }
        let source = plane + row * width
        for k in 0..<oddCount { odds[k] = source[2 * k] }
        for k in 0..<evenCount { evens[k + 1] = source[2 * k + 1] }
    }

    /// V = Bᵀ d B for every channel and tile of tile rows `rows` of image `n`: `into[ξ][c][t]`, leading
    /// dimension `ld`, tile `t` counted from the block's first.
    private static func transformInput(_ g: Conv2DGeometry, _ tiling: Tiling, _ input: Conv2DGEMM.Parts<UnsafePointer<Float>>, image n: Int,
                                       channels: Int, rows: Range<Int>, padded: UnsafeMutablePointer<Float>,
                                       into v: UnsafeMutablePointer<Float>, ld: Int) {
        let (height, width, half) = (g.height, g.width, tiling.halfWidth)
        for c in 0..<channels {
            let (part, offset) = input.locate(c, image: n)
            let plane = input.parts[part].base + offset
            for tileRow in rows {
                // Input rows 2 tileRow - 1 ... 2 tileRow + 2, row r split into slot (r + 1) & 3: the two
                // rows a tile row shares with the one before are split once.
                let fresh = tileRow == rows.lowerBound ? 2 * tileRow - 1 : 2 * tileRow + 1
                for r in fresh...(2 * tileRow + 2) {
                    splitRow(plane, row: r, height: height, width: width, half: half, into: padded + ((r + 1) & 3) * 2 * half)
                }
                let first = (tileRow - rows.lowerBound) * tiling.tileColumns
                for t0 in Swift.stride(from: 0, to: tiling.tileColumns, by: 8) {
                    // Row transform (d B) of each of the four rows, for 8 tiles at once: tile t reads
                    // padded columns 2t ... 2t + 3.
                    @inline(__always) func rowTransform(_ k: Int) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
                        let evens = UnsafePointer(padded + ((2 * tileRow + k) & 3) * 2 * half + t0), odds = evens + half
                        let (d0, d1, d2, d3) = (evens.vector(at: 0), odds.vector(at: 0), evens.vector(at: 1), odds.vector(at: 1))
                        return (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
                    }
                    let (r0, r1, r2, r3) = (rowTransform(0), rowTransform(1), rowTransform(2), rowTransform(3))
                    let lanes = min(8, tiling.tileColumns - t0), target = v + c * ld + first + t0, step = channels * ld
                    // Column transform (Bᵀ ·) of column j, stored at points j, 4 + j, 8 + j, 12 + j.
                    @inline(__always) func put(_ j: Int, _ a: SIMD8<Float>, _ b: SIMD8<Float>, _ d: SIMD8<Float>, _ e: SIMD8<Float>) {
                        (target + j * step).store(a - d, at: 0, lanes: lanes)
                        (target + (4 + j) * step).store(b + d, at: 0, lanes: lanes)
                        (target + (8 + j) * step).store(d - b, at: 0, lanes: lanes)
                        (target + (12 + j) * step).store(b - e, at: 0, lanes: lanes)
                    }
                    put(0, r0.0, r1.0, r2.0, r3.0)
                    put(1, r0.1, r1.1, r2.1, r3.1)
                    put(2, r0.2, r1.2, r2.2, r3.2)
                    put(3, r0.3, r1.3, r2.3, r3.3)
                }
            }
        }
    }

    /// Z = A dY Aᵀ for every output channel and tile of tile rows `rows` of image `n`: `into[ξ][o][t]`.
    private static func transformGradient(_ g: Conv2DGeometry, _ tiling: Tiling, _ dy: UnsafePointer<Float>, image n: Int, rows: Range<Int>,
                                          padded: UnsafeMutablePointer<Float>, into z: UnsafeMutablePointer<Float>, ld: Int) {
        let (height, width, half, outPlane) = (g.outHeight, g.outWidth, tiling.halfWidth, g.outHeight * g.outWidth)
        for o in 0..<g.outChannels {
            let plane = dy + (n * g.outChannels + o) * outPlane
            for tileRow in rows {
                for r in 0..<2 { splitRow(plane, row: 2 * tileRow + r, height: height, width: width, half: half, into: padded + r * 2 * half) }
                let first = (tileRow - rows.lowerBound) * tiling.tileColumns
                for t0 in Swift.stride(from: 0, to: tiling.tileColumns, by: 8) {
                    // Row transform (· Aᵀ) of both rows, then the column transform (A ·), 8 tiles at once:
                    // tile t reads image columns 2t and 2t + 1 (padded 2t + 1 and 2t + 2).
                    @inline(__always) func rowTransform(_ row: Int) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
                        let evens = UnsafePointer(padded + row * 2 * half + t0), odds = evens + half
                        let (a, b) = (odds.vector(at: 0), evens.vector(at: 1))
                        return (a, a + b, a - b, -b)
                    }
                    let (p0, p1) = (rowTransform(0), rowTransform(1))
                    let lanes = min(8, tiling.tileColumns - t0), target = z + o * ld + first + t0, step = g.outChannels * ld
                    @inline(__always) func put(_ j: Int, _ a: SIMD8<Float>, _ b: SIMD8<Float>) {
                        (target + j * step).store(a, at: 0, lanes: lanes)
                        (target + (4 + j) * step).store(a + b, at: 0, lanes: lanes)
                        (target + (8 + j) * step).store(a - b, at: 0, lanes: lanes)
                        (target + (12 + j) * step).store(-b, at: 0, lanes: lanes)
                    }
                    put(0, p0.0, p1.0)
                    put(1, p0.1, p1.1)
                    put(2, p0.2, p1.2)
                    put(3, p0.3, p1.3)
                }
            }
        }
    }

    /// Y = Aᵀ M A (+ bias) for every output channel and tile, written into the output's parts
    /// (pixels past the image's edge, in the last tile row or column of an odd size, are dropped).
    private static func transformOutput(_ g: Conv2DGeometry, _ tiling: Tiling, _ m: UnsafeMutablePointer<Float>, ld: Int, channels: Int, image n: Int,
                                        rows: Range<Int>, bias: UnsafePointer<Float>?, into output: Conv2DGEMM.Parts<UnsafeMutablePointer<Float>>) {
        let (height, width) = (g.height, g.width)  // stride 1, padding 1: the output has the input's size
        for o in 0..<channels {
            let (part, offset) = output.locate(o, image: n)
            let plane = output.parts[part].base + offset
            let b = SIMD8<Float>(repeating: bias?[o] ?? 0)
            for tileRow in rows {
                let first = (tileRow - rows.lowerBound) * tiling.tileColumns
                for t0 in Swift.stride(from: 0, to: tiling.tileColumns, by: 8) {
                    let source = UnsafePointer(m + o * ld + first + t0), step = channels * ld
                    // Column transform (Aᵀ ·) of column j: rows 0 and 1 of Aᵀ M.
                    @inline(__always) func column(_ j: Int) -> (SIMD8<Float>, SIMD8<Float>) {
                        let (a, c, d, e) = (source.vector(at: j * step), source.vector(at: (4 + j) * step),
                                            source.vector(at: (8 + j) * step), source.vector(at: (12 + j) * step))
                        return (a + c + d, c - d - e)
                    }
                    let (s0, s1, s2, s3) = (column(0), column(1), column(2), column(3))
                    let y = 2 * tileRow
                    for r in 0..<2 where y + r < height {
                        let (a, c, d, e) = r == 0 ? (s0.0, s1.0, s2.0, s3.0) : (s0.1, s1.1, s2.1, s3.1)
                        var pair = SIMD16<Float>()
                        pair.evenHalf = a + c + d + b
                        pair.oddHalf = c - d - e + b
                        let target = plane + (y + r) * width + 2 * t0
                        if 2 * t0 + 16 <= width {
                            UnsafeMutableRawPointer(target).storeBytes(of: pair, as: SIMD16<Float>.self)
                        } else {
                            for k in 0..<min(16, width - 2 * t0) { target[k] = pair[k] }
                        }
                    }
                }
            }
        }
    }
}
