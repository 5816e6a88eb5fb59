/// Convolution on sgemm (OpenBLAS, one thread per call): by Winograd where `Conv2DWinograd.applies`,
/// else as im2col + sgemm.
///
/// Each image's output is computed in blocks of output rows whose im2col matrix (`[C*kh*kw, rows*ow]`)
/// stays near 1 MB, so it is still in cache when sgemm packs it. Forward work items are (image, row
/// block) pairs spread over the workers; backward items are whole images (the input gradient of
/// neighbouring row blocks overlaps), each worker accumulating its own weight and bias gradients.
/// A 1x1 convolution with stride 1 and no padding multiplies the image itself, with no im2col.
enum Conv2DGEMM {
    /// The input of a convolution as the channel concatenation of NCHW tensors (`base` of each,
    /// its channel count), read in place: a convolution over concat(x, h) needs no concatenated copy.
    struct Parts<Pointer> {
        let parts: [(base: Pointer, channels: Int)]
        let plane: Int

        /// Offset of concatenated channel `c` of image `n` from its part's base.
        @inline(__always)
        func locate(_ c: Int, image n: Int) -> (part: Int, offset: Int) {
            var k = 0, c = c
            while c >= parts[k].channels { c -= parts[k].channels; k += 1 }
            return (k, (n * parts[k].channels + c) * plane)
        }
    }
    /// Floats of im2col scratch a block aims at.
    static let blockElements = 1 << 18

    /// Output rows per block for geometry `g`.
    static func rowsPerBlock(_ g: Conv2DGeometry) -> Int {
        min(g.outHeight, max(1, blockElements / max(1, g.patchSize * g.outWidth)))
    }

    /// True when the im2col matrix is the image itself.
    static func isPointwise(_ g: Conv2DGeometry) -> Bool {
        g.kernelHeight == 1 && g.kernelWidth == 1 && g.stride == 1 && g.padding == 0
    }

    /// Output columns `lower..<upper` (clamped to `0...count`) whose input column
    /// `ox * stride + offset` lies inside `0..<width`.
    @inline(__always)
    static func validColumns(count: Int, stride: Int, offset: Int, width: Int) -> Range<Int> {
        // ox >= ceil(-offset / stride) and ox * stride + offset < width.
        let lower = offset >= 0 ? 0 : (-offset + stride - 1) / stride
        let upper = width - offset <= 0 ? 0 : (width - offset + stride - 1) / stride
        let l = min(max(lower, 0), count)
        return l..<max(l, min(upper, count))
    }

    /// Lays out the receptive fields of output rows `rows` of image `x` (`C x H x W`) as the columns of
    /// `cols` (`[C*kh*kw, rows.count*ow]`, row-major, leading dimension `rows.count * ow`).
    static func im2col(_ g: Conv2DGeometry, _ x: UnsafePointer<Float>, _ cols: UnsafeMutablePointer<Float>, rows: Range<Int>) {
        im2col(g, Parts(parts: [(x, g.inChannels)], plane: g.height * g.width), image: 0, cols, rows: rows)
    }

    /// Calls `body(column, part, source, valid)` for every channel, kernel tap and output row in `rows`
    /// of image `n`: `column` is the offset in the im2col matrix of that tap's row for that output row,
    /// `source` the offset in part `part` of the input row it reads, shifted by the tap's column offset
    /// (nil where the input row lies in the padding), and `valid` the output columns whose input column
    /// lies inside the image. `im2col` and `col2im` walk the same taps.
    @inline(__always)
    static func forEachTap<Pointer>(_ g: Conv2DGeometry, _ input: Parts<Pointer>, image n: Int, rows: Range<Int>,
                                    _ body: (_ column: Int, _ part: Int, _ source: Int?, _ valid: Range<Int>) -> Void) {
        let ow = g.outWidth, ld = rows.count * ow
        for c in 0..<g.inChannels {
            let (part, channel) = input.locate(c, image: n)
            for i in 0..<g.kernelHeight { for j in 0..<g.kernelWidth {
                let row = ((c * g.kernelHeight + i) * g.kernelWidth + j) * ld
                let shift = j * g.dilation - g.padding
                let valid = validColumns(count: ow, stride: g.stride, offset: shift, width: g.width)
                for oy in rows {
                    let iy = oy * g.stride - g.padding + i * g.dilation
                    body(row + (oy - rows.lowerBound) * ow, part, iy >= 0 && iy < g.height ? channel + iy * g.width + shift : nil, valid)
                }
            } }
        }
    }

    /// `im2col` of image `n` of a channel concatenation.
    static func im2col(_ g: Conv2DGeometry, _ input: Parts<UnsafePointer<Float>>, image n: Int, _ cols: UnsafeMutablePointer<Float>,
                       rows: Range<Int>) {
        let ow = g.outWidth
        forEachTap(g, input, image: n, rows: rows) { column, part, source, valid in
            let out = cols + column
            guard let source, !valid.isEmpty else { out.initialize(repeating: 0, count: ow); return }
            let from = input.parts[part].base + source
            out.initialize(repeating: 0, count: valid.lowerBound)
            if g.stride == 1 {
                (out + valid.lowerBound).initialize(from: from + valid.lowerBound, count: valid.count)
            } else {
                for ox in valid { out[ox] = from[ox * g.stride] }
            }
            (out + valid.upperBound).initialize(repeating: 0, count: ow - valid.upperBound)
        }
    }

    /// Adds the columns of `cols` (laid out as `im2col` makes them for output rows `rows`) back into
    /// the gradient of image `n` of a channel concatenation (the transpose of `im2col`).
    static func col2im(_ g: Conv2DGeometry, _ cols: UnsafePointer<Float>, _ dx: Parts<UnsafeMutablePointer<Float>>, image n: Int, rows: Range<Int>) {
        forEachTap(g, dx, image: n, rows: rows) { column, part, target, valid in
            guard let target else { return }
            let (into, from) = (dx.parts[part].base + target, cols + column)
            if g.stride == 1 {
                let (t, s) = (into + valid.lowerBound, from + valid.lowerBound)
                FastMath.forEachVector(0..<valid.count) { q, lanes in t.store(t.vector(at: q, lanes: lanes) + s.vector(at: q, lanes: lanes), at: q, lanes: lanes) }
            } else {
                for ox in valid { into[ox * g.stride] += from[ox] }
            }
        }
    }

    /// `y = conv(x, w) + b` for the whole batch (`y` is written, not accumulated).
    static func forward(_ g: Conv2DGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>, b: UnsafePointer<Float>?,
                        y: UnsafeMutablePointer<Float>) {
        forward(g, input: Parts(parts: [(x, g.inChannels)], plane: g.height * g.width), w: w, b: b, y: y)
    }

    /// `y = conv(concat(parts), w) + b`, reading the parts in place (by Winograd where it applies).
    static func forward(_ g: Conv2DGeometry, input: Parts<UnsafePointer<Float>>, w: UnsafePointer<Float>, b: UnsafePointer<Float>?,
                        y: UnsafeMutablePointer<Float>) {
        if Conv2DWinograd.applies(g) {
            Conv2DWinograd.forward(g, input: input, w: w, b: b, y: y)
        } else {
            im2colForward(g, input: input, w: w, b: b, y: y)
        }
    }

    /// `forward` by im2col + sgemm whatever the geometry.
    static func im2colForward(_ g: Conv2DGeometry, input: Parts<UnsafePointer<Float>>, w: UnsafePointer<Float>, b: UnsafePointer<Float>?,
                              y: UnsafeMutablePointer<Float>) {
        let plane = g.outHeight * g.outWidth, patches = g.patchSize
        let imageIn = g.inChannels * g.height * g.width, imageOut = g.outChannels * plane
        let rowsPer = rowsPerBlock(g), blocks = (g.outHeight + rowsPer - 1) / rowsPer
        let pointwise = isPointwise(g) && input.parts.count == 1
        let x = input.parts[0].base
        let scratch = pointwise ? nil : Scratch(workers: Parallel.workers, count: patches * rowsPer * g.outWidth)
        Parallel.forEach(g.batch * blocks) { unit, worker in
            let n = unit / blocks, rows = ((unit % blocks) * rowsPer)..<min(g.outHeight, (unit % blocks + 1) * rowsPer)
            let first = rows.lowerBound * g.outWidth, columns = rows.count * g.outWidth
            let out = y + n * imageOut + first
            let (matrix, ld): (UnsafePointer<Float>, Int)
            if let scratch {
                im2col(g, input, image: n, scratch[worker], rows: rows)
                (matrix, ld) = (UnsafePointer(scratch[worker]), columns)
            } else {
                (matrix, ld) = (x + n * imageIn + first, plane)
            }
            if let b { for o in 0..<g.outChannels { (out + o * plane).update(repeating: b[o], count: columns) } }
            sgemm(transposeA: false, transposeB: false, m: g.outChannels, n: columns, k: patches, a: w, lda: patches,
                  b: matrix, ldb: ld, beta: b == nil ? 0 : 1, c: out, ldc: plane)
        }
    }

    /// Gradients for output gradient `dy`: `dx` (overwritten) when given, and `dw`, `db` (accumulated)
    /// when given.
    static func backward(_ g: Conv2DGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                         dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?, db: UnsafeMutablePointer<Float>?) {
        let plane = g.height * g.width
        backward(g, input: Parts(parts: [(x, g.inChannels)], plane: plane), w: w, dy: dy,
                 dx: dx.map { Parts(parts: [($0, g.inChannels)], plane: plane) }, dw: dw, db: db)
    }

    /// Gradients of `conv(concat(parts), w) + b`: `dx` (each part overwritten) when given, `dw` and
    /// `db` (accumulated) when given (by Winograd where it applies).
    static func backward(_ g: Conv2DGeometry, input: Parts<UnsafePointer<Float>>, w: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                         dx: Parts<UnsafeMutablePointer<Float>>?, dw: UnsafeMutablePointer<Float>?, db: UnsafeMutablePointer<Float>?) {
        if Conv2DWinograd.applies(g) {
            Conv2DWinograd.backward(g, input: input, w: w, dy: dy, dx: dx, dw: dw, db: db)
        } else {
            im2colBackward(g, input: input, w: w, dy: dy, dx: dx, dw: dw, db: db)
        }
    }

    /// `backward` by im2col + sgemm whatever the geometry.
    static func im2colBackward(_ g: Conv2DGeometry, input: Parts<UnsafePointer<Float>>, w: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                               dx: Parts<UnsafeMutablePointer<Float>>?, dw: UnsafeMutablePointer<Float>?, db: UnsafeMutablePointer<Float>?) {
        let plane = g.outHeight * g.outWidth, patches = g.patchSize
        let imageIn = g.inChannels * g.height * g.width, imageOut = g.outChannels * plane
        let rowsPer = rowsPerBlock(g), blockColumns = patches * rowsPer * g.outWidth
        let pointwise = isPointwise(g) && input.parts.count == 1
        let x = input.parts[0].base
        let workers = min(Parallel.workers, g.batch)
        let cols = Scratch(workers: workers, count: pointwise ? 0 : blockColumns)
        let dcols = Scratch(workers: workers, count: pointwise ? 0 : blockColumns)
        let weightGradients = Scratch(workers: workers, count: dw == nil ? 0 : g.outChannels * patches, zeroed: true)
        if let dx { for part in dx.parts { part.base.update(repeating: 0, count: g.batch * part.channels * dx.plane) } }
        Parallel.forEach(g.batch) { n, worker in
            let image = x + n * imageIn, gradient = dy + n * imageOut
            for start in stride(from: 0, to: g.outHeight, by: rowsPer) {
                let rows = start..<min(g.outHeight, start + rowsPer)
                let first = rows.lowerBound * g.outWidth, columns = rows.count * g.outWidth
                if dw != nil {
                    // dW += dY[:, block] * cols^T
                    let (matrix, ld): (UnsafePointer<Float>, Int)
                    if pointwise {
                        (matrix, ld) = (image + first, plane)
                    } else {
                        im2col(g, input, image: n, cols[worker], rows: rows)
                        (matrix, ld) = (UnsafePointer(cols[worker]), columns)
                    }
                    sgemm(transposeA: false, transposeB: true, m: g.outChannels, n: patches, k: columns, a: gradient + first, lda: plane,
                          b: matrix, ldb: ld, beta: 1, c: weightGradients[worker], ldc: patches)
                }
                if let dx {
                    // dX += col2im(W^T * dY[:, block])
                    if pointwise {
                        sgemm(transposeA: true, transposeB: false, m: patches, n: columns, k: g.outChannels, a: w, lda: patches,
                              b: gradient + first, ldb: plane, beta: 1, c: dx.parts[0].base + n * imageIn + first, ldc: plane)
                    } else {
                        sgemm(transposeA: true, transposeB: false, m: patches, n: columns, k: g.outChannels, a: w, lda: patches,
                              b: gradient + first, ldb: plane, beta: 0, c: dcols[worker], ldc: columns)
                        col2im(g, dcols[worker], dx, image: n, rows: rows)
                    }
                }
            }
        }
        for worker in 0..<workers {
            if let dw { let part = weightGradients[worker]; for k in 0..<(g.outChannels * patches) { dw[k] += part[k] } }
        }
        if let db { addBiasGradient(g, dy: dy, db: db) }
    }

    /// `db[o] += Σ dy[n, o, :, :]` over the images, channels spread over the workers.
    static func addBiasGradient(_ g: Conv2DGeometry, dy: UnsafePointer<Float>, db: UnsafeMutablePointer<Float>) {
        let plane = g.outHeight * g.outWidth
        Parallel.forEachRange(g.outChannels, grain: max(1, Elementwise.grain / max(1, g.batch * plane))) { channels in
            for o in channels {
                var total = SIMD8<Float>()
                for n in 0..<g.batch {
                    let row = dy + (n * g.outChannels + o) * plane
                    FastMath.forEachVector(0..<plane) { p, lanes in total += row.vector(at: p, lanes: lanes) }
                }
                db[o] += total.sum()
            }
        }
    }
}

/// Per-worker float buffers, freed with the value (64-byte aligned, one allocation).
final class Scratch {
    private let base: UnsafeMutablePointer<Float>
    private let stride: Int

    init(workers: Int, count: Int, zeroed: Bool = false) {
        // Round each worker's share up to a cache line so workers never share one.
        stride = (count + 15) / 16 * 16
        let total = max(1, workers * stride)
        base = UnsafeMutableRawPointer.allocate(byteCount: total * MemoryLayout<Float>.stride, alignment: 64).bindMemory(to: Float.self, capacity: total)
        if zeroed { base.initialize(repeating: 0, count: total) }
    }

    subscript(worker: Int) -> UnsafeMutablePointer<Float> { base + worker * stride }

    deinit { base.deallocate() }
}
