import CBLAS
import Foundation

/// Which OpenBLAS kernel is active (e.g. `Haswell`, `SkylakeX`), the preset that chose it, and how it is threaded.
public var blasKernelDescription: String {
    let core = openblas_get_corename().map { String(cString: $0) } ?? "unknown"
    let preset = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"].map { " (OPENBLAS_CORETYPE=\($0))" } ?? ""
    return "OpenBLAS \(core)\(preset), one thread per call on \(Parallel.workers) workers"
}

/// The convolution kernels in use: oneDNN's implementation, or im2col + OpenBLAS.
public var convolutionKernelDescription: String { DNNLConvolution.description }
