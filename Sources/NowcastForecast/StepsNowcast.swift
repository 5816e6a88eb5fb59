import Foundation
import NowcastCore
import NowcastData
import NowcastPhysics

/// STEPS (Bowler, Pierce and Seed 2006; Seed 2003), as pySTEPS's `nowcasts.steps` computes it with
/// its defaults: the last three frames in the working space (dBR), the two older ones advected to
/// the latest's time along the motion (`MotionMethod`, Lucas-Kanade by default) and filled where missing with their
/// minimum; each split into `levels` scales (`BandpassFilters`, `CascadeDecomposition`) and
/// normalised; per level an AR(2) model (`AutoRegression2`) from the lag-1 and lag-2 correlations
/// over the whole grid. Each member then steps every level's AR(2) forward with its own
/// spatially correlated noise (`NoiseFilter.nonparametric` of the frames' spectrum, decomposed into the
/// same cascade), recomposes with the latest frame's level means and deviations, keeps rain from
/// growing away from where it is (the incremental mask: `DilatedMask` of the last field's rain,
/// radius max(1, (step in minutes / km per pixel - 1) / 2), a 10-pixel rim), matches the latest frame's
/// distribution (`ProbabilityMatching`), and is advected along its perturbed motion
/// (`MotionPerturbation`) to the lead time; those are the defaults, and `Settings` takes pySTEPS's
/// other noise, mask and matching choices. Pixels missing in any input frame stay missing. The
/// levels are stepped in the spectral domain (pySTEPS's `domain="spectral"`): every cascade
/// operation is linear, so this is the same forecast with two transforms per step instead of eight.
///
/// Member k draws its noise from the stream (seed, 2k) and its motion perturbation from
/// (seed, 2k + 1), so that any member computed alone is the same bits as in the whole ensemble.
public struct StepsNowcast: NowcastMethod {
    /// The cascade, noise, mask and matching choices, named and defaulted as pySTEPS's arguments.
    public struct Settings: Sendable {
        public var levels = 6
        /// The rain threshold in physical units (0.1 mm/h), taken into the working space.
        public var rainThreshold: Float = 0.1
        /// Rim of the incremental mask, in pixels.
        public var maskRim = 10
        /// `vel_pert_method`: how each member's motion is perturbed.
        public var motionPerturbation = MotionPerturbationMethod.bps
        /// `noise_method`: what drives the levels; without noise the cascade only decays (S-PROG).
        public var noise = Noise.nonparametric
        /// `mask_method`: how rain is kept from spreading.
        public var mask = Mask.incremental
        /// `probmatching_method`: how each field's values are matched to the latest frame's.
        public var matching = Matching.cdf
        public init() {}

        public enum Noise: String, Codable, Sendable, CaseIterable {
            /// `NoiseFilter.nonparametric`: the frames' own spectrum.
            case nonparametric
            /// `NoiseFilter.parametric`: a two-slope power law fitted to it.
            case parametric
            case off = "none"
        }

        public enum Mask: String, Codable, Sendable, CaseIterable {
            /// Rain may grow only within a distance of where it was at the last step (`DilatedMask`).
            case incremental
            /// Only the share of the grid that was wet may be wet: the percentile of the noise-free
            /// (S-PROG) forecast that keeps the latest frame's wet-area ratio (`PercentileMask`).
            case sprog
            /// Only where the latest frame is wet (in the advected frame of reference).
            case observed = "obs"
            case off = "none"
        }

        public enum MotionPerturbationMethod: String, Codable, Sendable, CaseIterable {
            /// `MotionPerturbation`: pySTEPS's `bps` with its default parameters.
            case bps
            case off = "none"
        }

        public enum Matching: String, Codable, Sendable, CaseIterable {
            /// The latest frame's empirical distribution (`ProbabilityMatching`).
            case cdf
            /// The latest frame's mean over its wet pixels, by a shift of the forecast's wet values.
            case mean
            case off = "none"
        }

        /// S-PROG (Seed 2003) as pySTEPS's `nowcasts.sprog`: no noise, no motion perturbation, the
        /// percentile mask; one member.
        public static var sprog: Settings {
            var settings = Settings()
            (settings.noise, settings.motionPerturbation, settings.mask) = (.off, .off, .sprog)
            return settings
        }
    }

    public let motion: MotionField
    public let ny: Int, nx: Int
    /// Per level: the AR(2) model.
    public let models: [AutoRegression2]
    private let settings: Settings
    private let transforms: TransformChain
    private let filters: BandpassFilters
    private let noise: NoiseFilter?
    /// The half spectra of the last two frames' normalised levels, older first: [level][2].
    private let initialSpectra: [[[Float]]]
    private let means: [Double], deviations: [Double]
    private let latest: [Float]
    private let matching: ProbabilityMatching?
    /// The latest frame's mean over its wet pixels (mean matching) and where it is wet (obs mask).
    private let wetMean: Float
    private let observedWet: [Bool]
    private let missing: [Bool]
    private let threshold: Float
    private let noRain: Float
    private let maskRadius: Int
    private let dry: Bool
    /// The latest frame's share of rain (S-PROG's mask keeps it).
    private let wetAreaRatio: Double
    private let seed: UInt64
    private let kilometresPerPixel: Double, stepMinutes: Double

    /// Prepares STEPS from `frames` (oldest first, at least 3, physical units, `ny * nx` each).
    public init(frames: [[Float]], ny: Int, nx: Int, transforms: TransformChain, settings: Settings = Settings(),
                seed: UInt64, kilometresPerPixel: Double, stepSeconds: Double, motionMethod: MotionMethod = .lucasKanade,
                log: (String) -> Void = { _ in }) throws {
        guard frames.count >= 3 else {
            throw ForecastError.input(expected: "3 frames for STEPS's AR(2) model (ar_order + 1)", found: "\(frames.count)")
        }
        guard !transforms.needsFitting else {
            throw ForecastError.setting(key: "transforms", expected: "transforms with their parameters given (dbr:0.1:-15)", found: transforms.summary)
        }
        guard let filters = BandpassFilters(ny: ny, nx: nx, levels: settings.levels) else {
            throw ForecastError.setting(key: "cascade_levels", expected: "3 or more levels the \(ny) x \(nx) grid can resolve "
                + "((max side / 2)^(1 / levels) above 1.1: at most \(Self.maximumLevels(ny: ny, nx: nx)))", found: "\(settings.levels)")
        }
        let last = Array(frames.suffix(3))
        let noRain = MissingFill(transforms: transforms).value
        var working = last.map { frame -> [Float] in
            var values = frame
            values.withUnsafeMutableBufferPointer { transforms.forward($0) }
            return values
        }
        var thresholdValue = [settings.rainThreshold]
        thresholdValue.withUnsafeMutableBufferPointer { transforms.forward($0) }
        let threshold = thresholdValue[0]
        self.threshold = threshold
        missing = (0..<(ny * nx)).map { i in working.contains { $0[i].isNaN } }
        motion = try motionMethod.motion(working, ny: ny, nx: nx, missing: noRain)
        // The older frames advected to the latest's time, then filled where missing with their minimum.
        for k in 0..<2 {
            var advector = SemiLagrangian(ny: ny, nx: nx)
            for _ in 0..<(2 - k) { try advector.step(by: motion) }
            let filled = working[k].map { $0.isNaN ? noRain : $0 }
            working[k] = try advector.advect(filled, outside: filled.min() ?? noRain)
        }
        working = working.map { frame in
            let low = frame.filter { !$0.isNaN }.min() ?? noRain
            return frame.map { $0.isNaN ? low : $0 }
        }
        (self.ny, self.nx, self.settings, self.transforms, self.filters, self.noRain) = (ny, nx, settings, transforms, filters, noRain)
        (self.seed, self.kilometresPerPixel, stepMinutes) = (seed, kilometresPerPixel, stepSeconds / 60)
        // scipy iterates the cross into a diamond of radius int((n - 1) / 2), at least 1, n = minutes per km.
        maskRadius = max(1, Int((stepSeconds / 60 / kilometresPerPixel - 1) / 2))
        let latest = working[2]
        self.latest = latest
        matching = settings.matching == .cdf ? ProbabilityMatching(target: latest) : nil
        observedWet = latest.map { $0 >= threshold }
        let wet = latest.filter { $0 >= threshold }
        dry = wet.isEmpty
        wetAreaRatio = Double(wet.count) / Double(ny * nx)
        wetMean = Float(wet.reduce(0.0) { $0 + Double($1) } / Double(max(1, wet.count)))
        guard !dry else {
            log("STEPS: no rain above \(settings.rainThreshold) in the latest frame; the forecast is no rain")
            (models, initialSpectra, means, deviations, noise) = ([], [], [], [], nil)
            return
        }
        guard let fft = RealFFT2D(ny: ny, nx: nx) else {
            throw ForecastError.input(expected: "a grid FFTW can transform", found: "\(ny) x \(nx)")
        }
        let cascades = try working.map { try CascadeDecomposition(field: $0, filters: filters, fft: fft) }
        var models: [AutoRegression2] = [], levels: [[[Float]]] = []
        for k in 0..<settings.levels {
            let (x0, x1, x2) = (cascades[0].normalised(k), cascades[1].normalised(k), cascades[2].normalised(k))
            let gamma1 = AutoRegression2.correlation(x2, x1), gamma2 = AutoRegression2.correlation(x2, x0)
            models.append(try AutoRegression2(gamma1: gamma1.isFinite ? min(gamma1, 0.999) : 0, gamma2: gamma2.isFinite ? gamma2 : 0))
            levels.append([fft.forward(x1), fft.forward(x2)])
        }
        (self.models, initialSpectra) = (models, levels)
        log("STEPS levels (central wavenumber: lag-1, lag-2 correlation; phi1, phi2, phi0): " + zip(filters.centralWavenumbers, models).map { c, m in
            String(format: "%.1f: %.3f, %.3f; %.3f, %.3f, %.3f", c, m.gamma1, m.gamma2, m.phi1, m.phi2, m.phi0)
        }.joined(separator: " | "))
        (means, deviations) = (cascades[2].means, cascades[2].standardDeviations)
        switch settings.noise {
        case .nonparametric:
            noise = NoiseFilter.nonparametric(fields: working, ny: ny, nx: nx)
        case .parametric:
            let parametric = NoiseFilter.parametric(fields: working, ny: ny, nx: nx)
            if let fit = parametric?.fit {
                log(String(format: "STEPS parametric noise: power slope %.2f below wavenumber %.1f, %.2f above", fit.largeScaleSlope, fit.breakWavenumber, fit.smallScaleSlope))
            }
            noise = parametric?.filter
        case .off:
            noise = nil
        }
        if settings.noise != .off, noise == nil {
            throw ForecastError.input(expected: "input frames whose power spectrum the \(settings.noise.rawValue) noise filter can take", found: "none on this \(ny) x \(nx) grid")
        }
    }

    /// The most cascade levels an `ny` x `nx` grid resolves.
    public static func maximumLevels(ny: Int, nx: Int) -> Int {
        var levels = 3
        while BandpassFilters(ny: ny, nx: nx, levels: levels + 1) != nil { levels += 1 }
        return BandpassFilters(ny: ny, nx: nx, levels: 3) == nil ? 0 : levels
    }

    public var name: String {
        let choices = "\(settings.mask.rawValue) mask, \(settings.matching.rawValue) matching" + (settings.motionPerturbation != .off ? ", perturbed motion" : "")
        return settings.noise != .off ? "STEPS (\(settings.levels) cascade levels, AR(2), \(settings.noise.rawValue) noise, \(choices))"
            : "S-PROG (\(settings.levels) cascade levels, AR(2), \(choices))"
    }
    /// Without noise or perturbed motion every member would be the same forecast.
    public var memberLimit: Int? { settings.noise != .off || settings.motionPerturbation != .off ? nil : 1 }
    public var computesMembersConcurrently: Bool { true }

    public func forecast(member: Int, leads: Int, lead: (Int, [Float]) throws -> Void) throws {
        let plane = ny * nx
        guard !dry else {
            let zero = missing.map { $0 ? Float.nan : 0 }
            for index in 0..<leads { try lead(index, zero) }
            return
        }
        guard let fft = RealFFT2D(ny: ny, nx: nx) else {
            throw ForecastError.input(expected: "a grid FFTW can transform", found: "\(ny) x \(nx)")
        }
        var noiseRandom = SeededGenerator(seed: seed, stream: 2 * UInt64(member))
        var motionRandom = SeededGenerator(seed: seed, stream: 2 * UInt64(member) + 1)
        let perturbation = settings.motionPerturbation != .off ? MotionPerturbation(using: &motionRandom) : nil
        var levels = initialSpectra
        // The noise-free cascade beside the noisy one, when the S-PROG mask is taken from it.
        var quietLevels = noise != nil && settings.mask == .sprog ? initialSpectra : nil
        // The incremental mask's weights.
        var mask = settings.mask == .incremental
            ? DilatedMask.weights(wet: observedWet, ny: ny, nx: nx, radius: maskRadius, rim: settings.maskRim) : []
        var advector = SemiLagrangian(ny: ny, nx: nx)
        var scratch = [Float](repeating: 0, count: fft.spectrumCount)
        for index in 0..<leads {
            let noiseSpectrum = noise?.nextSpectrum(using: &noiseRandom, fft: fft)
            var field = fft.inverse(step(&levels, noise: noiseSpectrum, fft: fft, scratch: &scratch))
            guard field.allSatisfy(\.isFinite) else {
                throw ForecastError.input(expected: "finite STEPS fields", found: "a non-finite value at lead \(index + 1) of member \(member)")
            }
            // Rain may not grow away from where it is (incremental), cover more of the grid than it
            // did (sprog), or fall outside where it was (obs).
            let low = field.min() ?? noRain
            switch settings.mask {
            case .incremental:
                for i in 0..<plane { field[i] = low + (field[i] - low) * mask[i] }
            case .sprog:
                var reference = field
                if var quiet = quietLevels {
                    reference = fft.inverse(step(&quiet, noise: nil, fft: fft, scratch: &scratch))
                    quietLevels = quiet
                }
                if let limit = PercentileMask.threshold(reference, wetAreaRatio: wetAreaRatio) {
                    for i in 0..<plane where reference[i] < limit { field[i] = low }
                }
            case .observed:
                for i in 0..<plane where !observedWet[i] { field[i] = low }
            case .off:
                break
            }
            switch settings.matching {
            case .cdf:
                if let matched = matching?.match(field) { field = matched }
            case .mean:
                ProbabilityMatching.matchWetMean(&field, threshold: threshold, mean: wetMean)
            case .off:
                break
            }
            if settings.mask == .incremental {
                mask = DilatedMask.weights(wet: field.map { $0 >= threshold }, ny: ny, nx: nx, radius: maskRadius, rim: settings.maskRim)
            }
            for i in 0..<plane where missing[i] { field[i] = .nan }
            let minutes = Double(index + 1) * stepMinutes
            try advector.step(by: perturbation?.perturbed(motion, minutes: minutes, kilometresPerPixel: kilometresPerPixel, stepMinutes: stepMinutes) ?? motion)
            var output = try advector.advect(field, outside: .nan)
            output.withUnsafeMutableBufferPointer { transforms.inverseToPhysical($0) }
            try lead(index, output)
        }
    }

    /// One AR(2) step of every level, in the spectral domain where all the cascade does is linear:
    /// each level's share of `noiseSpectrum` (nil: none), normalised by Parseval, drives its step,
    /// and the levels add up with the latest frame's statistics into one half spectrum.
    private func step(_ levels: inout [[[Float]]], noise noiseSpectrum: [Float]?, fft: RealFFT2D, scratch level: inout [Float]) -> [Float] {
        let (count, half, n) = (fft.spectrumCount, fft.spectrumCount / 2, Float(ny * nx))
        var recomposed = [Float](repeating: 0, count: count)
        for k in 0..<settings.levels {
            let weights = filters.weights[k], model = models[k]
            let (older, newer) = (levels[k][0], levels[k][1])
            var scale: Float = 0
            if let noiseSpectrum {
                level.withUnsafeMutableBufferPointer { out in
                    for i in 0..<half {
                        out[2 * i] = noiseSpectrum[2 * i] * weights[i]
                        out[2 * i + 1] = noiseSpectrum[2 * i + 1] * weights[i]
                    }
                    let moments = fft.moments(UnsafeBufferPointer(out))
                    (out[0], out[1]) = (0, 0)  // the mean out
                    scale = moments.deviation > 0 ? Float(model.phi0 / moments.deviation) : 0
                }
            }
            let (p1, p2, sigma) = (Float(model.phi1), Float(model.phi2), Float(deviations[k]))
            var next = [Float](repeating: 0, count: count)
            withFieldPointers([newer, older, level]) { f in
                let (nw, ol, lv) = (f[0], f[1], f[2])
                next.withUnsafeMutableBufferPointer { out in
                    recomposed.withUnsafeMutableBufferPointer { sum in
                        for i in 0..<count {
                            let v = p1 * nw[i] + p2 * ol[i] + scale * lv[i]
                            out[i] = v
                            sum[i] += sigma * v
                        }
                    }
                }
            }
            levels[k] = [newer, next]
            recomposed[0] += Float(means[k]) * n
        }
        return recomposed
    }
}
