/// Elementwise kernels over whole tensors, split over the workers in cache-sized pieces, written as
/// plain loops over unsafe pointers so that the compiler vectorises them.
enum Elementwise {
    /// Elements per piece below which a loop stays on the calling thread.
    static let grain = 1 << 15

    /// `x = max(0, x)` in place.
    static func relu(_ x: UnsafeMutableBufferPointer<Float>) {
        let p = x.baseAddress!
        Parallel.forEachRange(x.count, grain: grain) { r in
            FastMath.forEachVector(r) { k, lanes in
                let v = p.vector(at: k, lanes: lanes)
                p.store(v.replacing(with: 0, where: v .< 0), at: k, lanes: lanes)
            }
        }
    }

    /// The gradient through a ReLU whose output was `output`: `upstream` where the output is positive.
    static func reluBackward(_ upstream: Tensor, output: Tensor) -> Tensor {
        var out = [Tensor(uninitializedShape: upstream.shape)]
        Tensor.withElements(writing: &out, reading: [upstream, output]) { o, input in
            reluBackward(input[0], output: input[1], into: o[0], count: upstream.count)
        }
        return out[0]
    }

    /// `reluBackward` over raw buffers of `count` elements in the same layout (NHWC copies).
    static func reluBackward(_ upstream: UnsafePointer<Float>, output: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forEachRange(count, grain: grain) { r in
            FastMath.forEachVector(r) { k, lanes in
                out.store(upstream.vector(at: k, lanes: lanes).replacing(with: 0, where: output.vector(at: k, lanes: lanes) .<= 0), at: k, lanes: lanes)
            }
        }
    }

    /// `f` on 8-lane vectors of `a` (the last one padded with zeros).
    @inline(__always)
    static func mapVectors(_ a: Tensor, _ f: (SIMD8<Float>) -> SIMD8<Float>) -> Tensor {
        var out = Tensor(uninitializedShape: a.shape)
        out.withUnsafeMutableBufferPointer { o in a.withUnsafeBufferPointer { x in
            let (op, xp) = (o.baseAddress!, x.baseAddress!)
            Parallel.forEachRange(o.count, grain: grain) { r in
                @inline(__always) func step(_ k: Int, _ lanes: Int) { op.store(f(xp.vector(at: k, lanes: lanes)), at: k, lanes: lanes) }
                let (vectors, tail) = FastMath.vectorSplit(r)
                for k in vectors { step(k, 8) }
                if !tail.isEmpty { step(tail.lowerBound, tail.count) }
            }
        } }
        return out
    }

    /// `f(a[i])` for every element.
    @inline(__always)
    static func map(_ a: Tensor, _ f: (Float) -> Float) -> Tensor {
        var out = Tensor(uninitializedShape: a.shape)
        out.withUnsafeMutableBufferPointer { o in a.withUnsafeBufferPointer { x in
            let (op, xp) = (o.baseAddress!, x.baseAddress!)
            Parallel.forEachRange(o.count, grain: grain) { r in for i in r { op[i] = f(xp[i]) } }
        } }
        return out
    }

    /// `f(a[i], b[i])` for every element (the caller checks the counts).
    @inline(__always)
    static func map(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
        var out = [Tensor(uninitializedShape: a.shape)]
        Tensor.withElements(writing: &out, reading: [a, b]) { o, input in
            let (op, xp, yp) = (o[0], input[0], input[1])
            Parallel.forEachRange(a.count, grain: grain) { r in for i in r { op[i] = f(xp[i], yp[i]) } }
        }
        return out[0]
    }

    /// `f(a[i], b[i], c[i])` for every element (the caller checks the counts).
    @inline(__always)
    static func map(_ a: Tensor, _ b: Tensor, _ c: Tensor, _ f: (Float, Float, Float) -> Float) -> Tensor {
        var out = [Tensor(uninitializedShape: a.shape)]
        Tensor.withElements(writing: &out, reading: [a, b, c]) { o, input in
            let (op, xp, yp, zp) = (o[0], input[0], input[1], input[2])
            Parallel.forEachRange(a.count, grain: grain) { r in for i in r { op[i] = f(xp[i], yp[i], zp[i]) } }
        }
        return out[0]
    }

    /// `a += b` in place (the caller checks the counts).
    static func add(_ a: inout Tensor, _ b: Tensor) {
        a.withUnsafeMutableBufferPointer { o in b.withUnsafeBufferPointer { x in
            let (op, xp) = (o.baseAddress!, x.baseAddress!)
            Parallel.forEachRange(o.count, grain: grain) { r in for i in r { op[i] += xp[i] } }
        } }
    }
}

extension Tensor {
    /// Elementwise `f(a, b)` of two tensors of the same shape (callers check the shapes).
    @inline(__always)
    static func zip(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> Tensor { Elementwise.map(a, b, f) }

    /// Elementwise `f(x)`.
    @inline(__always)
    func map(_ f: (Float) -> Float) -> Tensor { Elementwise.map(self, f) }
}
