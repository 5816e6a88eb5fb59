import ArgumentParser
import Foundation
import NowcastForecast
import NowcastIO

/// `nowcast forecast`: an ensemble nowcast from the latest observations, as a CF-1.8 product.
struct Forecast: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Forecast from the latest frames of an archive with persistence, extrapolation or a trained run; write a CF-1.8 NetCDF product.",
        discussion: helpExamples(
            "nowcast forecast --model extrapolation --input /data/radar/today --time latest --leadtimes 12 -o nowcast.nc",
            "nowcast forecast --model extrapolation --input /data/bom --transform rate:10 --transform dbr:0.1:-15 --time 2020-10-31T06:00:00Z --members 20 -o ensemble.nc",
            "nowcast forecast --model steps --input /data/bom --transform rate:10 --transform dbr:0.1:-15 --members 20 --leadtimes 12 -o steps.nc",
            "nowcast forecast --model steps --noise-method parametric --mask-method sprog --probmatching-method mean --input /data/bom --transform rate:10 --transform dbr:0.1:-15 --members 20 -o steps-param.nc",
            "nowcast forecast --model /data/runs/convlstm --input /data/radar/today --members 4 --leadtimes 12 -o convlstm.nc",
            "nowcast forecast --model /data/runs/convlstm --input /data/radar/today --ensemble noise --members 20 --seed 7 -o convlstm-noise.nc"))

    @Option(help: "YAML or JSON config file; flags override its keys.")
    var config: String?

    @Option(help: "persistence, extrapolation, steps, sprog, or a run or model folder (nowcast train's output): model.")
    var model: String?

    @Option(name: .customLong("input"), help: "A file, folder or glob pattern of the archive (repeatable): inputs.")
    var inputs: [String] = []

    @OptionGroup var field: FieldOptions

    @Option(help: "Time of the latest observation used, ISO 8601 (2020-10-31T06:00:00Z), or latest: time.")
    var time: String?

    @Option(help: "Lead times, in steps of the archive: leadtimes.")
    var leadtimes: Int?

    @Option(help: "Ensemble members (a run's deep-ensemble members; extrapolation: perturbed motions): members.")
    var members: Int?

    @Option(help: "Compute member K of the ensemble alone (bit-identical to it in the full ensemble): member.")
    var member: Int?

    @Option(help: "Seed of the ensemble's random draws (member k draws from (seed, k)): seed.")
    var seed: UInt64?

    @Option(name: .customLong("transform"), help: "Extrapolation's working space, convert's transforms in order (repeatable; default dbr:0.1:-15; none: physical units): transforms.")
    var transforms: [String] = []

    @Option(help: "Frames the motion is estimated from: motion_frames (default 3).")
    var motionFrames: Int?

    @Option(help: "Extrapolation and STEPS: lucas-kanade (dense Lucas-Kanade, the default) or variational (one smooth field fitted to all frames, as VET): motion_method.")
    var motion: String?

    @Option(help: "Rain coming from outside the grid: missing (NaN, as pySTEPS) or zero: outside.")
    var outside: String?

    @Option(help: "STEPS: scales of the cascade decomposition (default 6): cascade_levels.")
    var cascadeLevels: Int?

    @Option(help: "STEPS: nonparametric (the frames' spectrum), parametric (a two-slope power law fitted to it) or none: noise_method.")
    var noiseMethod: String?

    @Option(help: "STEPS: incremental, sprog (the noise-free forecast's wet-area percentile), obs (the latest wet area) or none: mask_method.")
    var maskMethod: String?

    @Option(help: "STEPS: cdf (the latest frame's distribution), mean (its wet mean) or none: probmatching_method.")
    var probmatchingMethod: String?

    @Option(help: "STEPS: bps (perturbed motion per member) or none: vel_pert_method.")
    var velPertMethod: String?

    @Option(help: "A run's members: deep (its trained members), dropout (MC dropout of a run trained with it) or noise (inputs perturbed by noise with the observed spectrum): ensemble.")
    var ensemble: String?

    @Option(help: "Noise ensembles: the noise's standard deviation relative to the latest frame's wet values in model units (default 0.2): noise_scale.")
    var noiseScale: Float?

    @Option(help: "Exceedance thresholds in the product's units, comma-separated (default 0.5,1,5,10): thresholds.")
    var thresholds: String?

    @Option(help: "The product's institution attribute: institution.")
    var institution: String?

    @Option(help: "The product's title attribute: title.")
    var title: String?

    @Option(help: "Deflate level of the product (1-9): deflate_level.")
    var deflateLevel: Int?

    @Option(name: [.short, .long], help: "The product file (.nc): output.")
    var output: String?

    func resolved() throws -> ForecastConfig {
        var c = try config.map(ForecastConfig.load) ?? ForecastConfig()
        if let model { c.model = model }
        if !inputs.isEmpty { c.inputs = inputs }
        try field.apply(to: &c.field)
        if let time { c.time = time }
        if let leadtimes { c.leadtimes = leadtimes }
        if let members { c.members = members }
        if let member { c.member = member }
        if let seed { c.seed = seed }
        if !transforms.isEmpty { c.transforms = transforms }
        if let motionFrames { c.motionFrames = motionFrames }
        if let motion { c.motionMethod = try choice(motion, flag: "--motion") }
        if let outside { c.outside = try choice(outside, flag: "--outside") }
        if let ensemble { c.ensemble = try choice(ensemble, flag: "--ensemble") }
        if let noiseScale { c.noiseScale = noiseScale }
        if let cascadeLevels { c.cascadeLevels = cascadeLevels }
        if let noiseMethod { c.noiseMethod = try choice(noiseMethod, flag: "--noise-method") }
        if let maskMethod { c.maskMethod = try choice(maskMethod, flag: "--mask-method") }
        if let probmatchingMethod { c.probmatchingMethod = try choice(probmatchingMethod, flag: "--probmatching-method") }
        if let velPertMethod { c.velPertMethod = try choice(velPertMethod, flag: "--vel-pert-method") }
        if let thresholds { c.thresholds = try numberList(thresholds, flag: "--thresholds", example: "0.5,1,5,10") }
        if let institution { c.institution = institution }
        if let title { c.title = title }
        if let deflateLevel { c.deflateLevel = deflateLevel }
        if let output { c.output = output }
        return c
    }

    /// One of an enumeration's values, or an error listing them all.
    private func choice<T: RawRepresentable & CaseIterable>(_ text: String, flag: String) throws -> T where T.RawValue == String {
        guard let value = T(rawValue: text) else {
            throw ValidationError("\(flag) '\(text)': expected \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }

    func run() throws {
        let job = ForecastJob(config: try resolved())
        job.progress = Progress.callback("forecast", unit: "members")
        job.log = { printError($0) }
        let started = Date()
        let s = try job.run()
        let seconds = Date().timeIntervalSince(started)
        let motion = s.motionSpeed.map { String(format: "\nmotion     mean %.2f, max %.2f pixels per step", $0.mean, $0.max) } ?? ""
        print("""
        product    \(s.path)
        method     \(s.method)
        start      \(UTCTime.iso8601(s.referenceTime)) from \(s.inputTimes.count) frame\(s.inputTimes.count == 1 ? "" : "s") (\(s.inputTimes.map(UTCTime.iso8601).joined(separator: ", ")))
        members    \(s.members.count == 1 ? "member \(s.members[0])" : "\(s.members.count)"), \(s.leadtimes) lead times; grid \(s.grid)\(motion)
        time       \(String(format: "%.2f", seconds)) s, peak RSS \(peakResidentMegabytes()) MB
        """)
    }
}
