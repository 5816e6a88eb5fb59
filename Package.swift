// swift-tools-version: 6.0
import Foundation
import PackageDescription

/// Release builds of the engine's kernels target AVX2 + FMA (`-target-cpu haswell`: Intel since 2013,
/// AMD since 2015): on the x86-64 baseline (SSE2) the compiler splits 8-lane vector code into scalar
/// branches, and the ConvLSTM gate kernel ran several times slower. Set NOWCAST_PORTABLE=1 when
/// building for an older CPU.
#if arch(x86_64)
let vectorSettings: [SwiftSetting] = ProcessInfo.processInfo.environment["NOWCAST_PORTABLE"] == nil
    ? [.unsafeFlags(["-target-cpu", "haswell"], .when(configuration: .release))] : []
#else
let vectorSettings: [SwiftSetting] = []
#endif

let package = Package(
    name: "NowcastKit",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "NowcastCore", targets: ["NowcastCore"]),
        .library(name: "NowcastIO", targets: ["NowcastIO"]),
        .library(name: "NowcastData", targets: ["NowcastData"]),
        .library(name: "NowcastNN", targets: ["NowcastNN"]),
        .library(name: "NowcastPhysics", targets: ["NowcastPhysics"]),
        .library(name: "NowcastSynthetic", targets: ["NowcastSynthetic"]),
        .library(name: "NowcastModels", targets: ["NowcastModels"]),
        .library(name: "NowcastForecast", targets: ["NowcastForecast"]),
        .library(name: "NowcastVerify", targets: ["NowcastVerify"]),
        .library(name: "NowcastPlot", targets: ["NowcastPlot"]),
        .library(name: "NowcastTrain", targets: ["NowcastTrain"]),
        .executable(name: "nowcast", targets: ["nowcast"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        .systemLibrary(name: "CNetCDF", pkgConfig: "netcdf", providers: [.apt(["libnetcdf-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),
        .systemLibrary(name: "CProj", pkgConfig: "proj", providers: [.apt(["libproj-dev"])]),
        .systemLibrary(name: "CDeflate", pkgConfig: "libdeflate", providers: [.apt(["libdeflate-dev"])]),
        .systemLibrary(name: "CLinux"),
        .systemLibrary(name: "CCairo", pkgConfig: "cairo", providers: [.apt(["libcairo2-dev"])]),
        .systemLibrary(name: "CFFTW", pkgConfig: "fftw3f", providers: [.apt(["libfftw3-dev"])]),
        .target(name: "NowcastCore"),
        .target(name: "NowcastIO", dependencies: ["NowcastCore", "CNetCDF", "CHDF5", "CProj", "CDeflate", "CLinux"]),
        .target(name: "NowcastData", dependencies: ["NowcastCore", "NowcastIO", "Yams"]),
        .target(name: "NowcastNN", dependencies: ["NowcastCore", "CBLAS", "CDNNL"], swiftSettings: vectorSettings),
        .target(name: "NowcastPhysics", dependencies: ["NowcastCore", "NowcastNN", "CFFTW"]),
        .target(name: "NowcastSynthetic", dependencies: ["NowcastCore", "NowcastIO", "NowcastNN", "NowcastPhysics"]),
        .target(name: "NowcastModels", dependencies: ["NowcastCore", "NowcastData", "NowcastNN", "NowcastPhysics"]),
        .target(name: "NowcastForecast", dependencies: ["NowcastCore", "NowcastIO", "NowcastData", "NowcastModels", "NowcastNN", "NowcastPhysics", "NowcastVerify", "NowcastPlot"]),
        .target(name: "NowcastVerify"),
        .target(name: "NowcastPlot", dependencies: ["CCairo"]),
        .target(name: "NowcastTrain", dependencies: ["NowcastCore", "NowcastData", "NowcastIO", "NowcastModels", "NowcastNN", "NowcastVerify", "NowcastPlot"]),
        .executableTarget(
            name: "nowcast",
            dependencies: ["NowcastCore", "NowcastIO", "NowcastData", "NowcastNN", "NowcastModels", "NowcastSynthetic", "NowcastTrain", "NowcastVerify", "NowcastForecast", "NowcastPhysics", "NowcastPlot",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .target(name: "NowcastTestSupport", dependencies: ["NowcastIO", "NowcastData", "NowcastNN", "NowcastSynthetic"],
                path: "Tests/NowcastTestSupport"),
        .testTarget(name: "NowcastCoreTests", dependencies: ["NowcastCore"]),
        .testTarget(name: "NowcastIOTests", dependencies: ["CNetCDF", "NowcastCore", "NowcastIO", "NowcastSynthetic", "NowcastTestSupport"]),
        .testTarget(name: "NowcastDataTests", dependencies: ["NowcastCore", "NowcastData", "NowcastIO", "NowcastTestSupport"]),
        .testTarget(name: "NowcastVerifyTests", dependencies: ["NowcastVerify", "NowcastTestSupport"]),
        .testTarget(name: "NowcastPlotTests", dependencies: ["NowcastPlot"]),
        .testTarget(name: "NowcastForecastTests", dependencies: ["NowcastForecast", "NowcastCore", "NowcastIO", "NowcastData", "NowcastModels", "NowcastPhysics", "NowcastTrain", "NowcastVerify", "NowcastTestSupport"]),
        .testTarget(name: "NowcastPhysicsTests", dependencies: ["NowcastCore", "NowcastNN", "NowcastPhysics", "NowcastTestSupport"]),
        .testTarget(name: "NowcastSyntheticTests", dependencies: ["NowcastCore", "NowcastIO", "NowcastSynthetic", "NowcastTestSupport"]),
        .testTarget(name: "NowcastNNTests", dependencies: ["NowcastNN", "NowcastCore", "NowcastTestSupport"]),
        .testTarget(name: "NowcastModelsTests", dependencies: ["NowcastCore", "NowcastData", "NowcastModels", "NowcastNN", "NowcastTestSupport"]),
        .testTarget(name: "NowcastTrainTests", dependencies: ["NowcastTrain", "NowcastData", "NowcastForecast", "NowcastIO", "NowcastModels", "NowcastNN", "NowcastVerify", "NowcastTestSupport"]),
        .testTarget(name: "NowcastCLITests", dependencies: ["NowcastCore", "NowcastIO", "NowcastTestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
