import Foundation
import NowcastData
import NowcastIO
import NowcastPhysics

/// Everything `nowcast forecast` is told, as a YAML/JSON config file or flags (same keys; a flag
/// overrides the file). Field-reading keys (`variable`, `quantity`, `time_attribute`, ...) sit at the
/// top level, as in a convert config.
public struct ForecastConfig: Codable, Sendable, ConfigFileDecodable {
    /// `persistence`, `extrapolation`, or the path of a training run or model folder.
    public var model = "extrapolation"
    /// Files, folders or glob patterns of the archive the forecast starts from.
    public var inputs: [String] = []
    public var field = FieldReadOptions()
    /// The time of the latest observation used, ISO 8601, or `latest`.
    public var time = "latest"
    public var leadtimes = 12
    /// Ensemble members; `member` alone computes one of them.
    public var members = 1
    public var member: Int?
    public var seed: UInt64 = 0
    /// Extrapolation: the working space (convert's transforms, in order; `none` for physical units)
    /// and the frames the motion is estimated from.
    public var transforms: [String] = ["dbr:0.1:-15"]
    public var motionFrames = 3
    /// Extrapolation and STEPS: how the motion is estimated (`lucas-kanade` when not given, or
    /// `variational`); refused for the other models, which do not estimate one.
    public var motionMethod: MotionMethod?
    /// Extrapolation: what rain comes from outside the grid (`missing` as pySTEPS, or `zero`).
    public var outside = ExtrapolationNowcast.Outside.missing
    /// STEPS: scales of the cascade.
    public var cascadeLevels = 6
    /// STEPS and S-PROG choices under pySTEPS's names; nil takes the model's default (steps:
    /// nonparametric, incremental, cdf, bps; sprog: none, sprog, cdf, none).
    public var noiseMethod: StepsNowcast.Settings.Noise?
    public var maskMethod: StepsNowcast.Settings.Mask?
    public var probmatchingMethod: StepsNowcast.Settings.Matching?
    public var velPertMethod: StepsNowcast.Settings.MotionPerturbationMethod?
    /// Model runs: `deep` (the run's trained members) or `noise` (input perturbations, any number
    /// of members) and the noise's size relative to the latest frame's spread in model units.
    public var ensemble = ModelNowcast.Ensemble.deep
    public var noiseScale: Float = 0.2
    /// Exceedance thresholds, in the product's units.
    public var thresholds: [Float] = [0.5, 1, 5, 10]
    public var institution = "unknown"
    public var title: String?
    public var deflateLevel = 4
    /// The product file.
    public var output = ""

    public init() {}

    /// The methods that need no trained run.
    public static let builtInModels = ["persistence", "extrapolation", "steps", "sprog"]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, inputs, time, leadtimes, members, member, seed, transforms, outside, ensemble, thresholds, institution, title, output
        case motionFrames = "motion_frames", motionMethod = "motion_method", deflateLevel = "deflate_level", noiseScale = "noise_scale", cascadeLevels = "cascade_levels"
        case noiseMethod = "noise_method", maskMethod = "mask_method", probmatchingMethod = "probmatching_method", velPertMethod = "vel_pert_method"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ForecastConfig()
        model = try c.decodeIfPresent(String.self, forKey: .model) ?? d.model
        inputs = try c.decodeIfPresent([String].self, forKey: .inputs) ?? d.inputs
        field = try FieldReadOptions(from: decoder)
        time = try c.decodeIfPresent(String.self, forKey: .time) ?? d.time
        leadtimes = try c.decodeIfPresent(Int.self, forKey: .leadtimes) ?? d.leadtimes
        members = try c.decodeIfPresent(Int.self, forKey: .members) ?? d.members
        member = try c.decodeIfPresent(Int.self, forKey: .member)
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        transforms = try c.decodeIfPresent([String].self, forKey: .transforms) ?? d.transforms
        motionFrames = try c.decodeIfPresent(Int.self, forKey: .motionFrames) ?? d.motionFrames
        motionMethod = try c.decodeIfPresent(MotionMethod.self, forKey: .motionMethod)
        outside = try c.decodeIfPresent(ExtrapolationNowcast.Outside.self, forKey: .outside) ?? d.outside
        cascadeLevels = try c.decodeIfPresent(Int.self, forKey: .cascadeLevels) ?? d.cascadeLevels
        noiseMethod = try c.decodeIfPresent(StepsNowcast.Settings.Noise.self, forKey: .noiseMethod)
        maskMethod = try c.decodeIfPresent(StepsNowcast.Settings.Mask.self, forKey: .maskMethod)
        probmatchingMethod = try c.decodeIfPresent(StepsNowcast.Settings.Matching.self, forKey: .probmatchingMethod)
        velPertMethod = try c.decodeIfPresent(StepsNowcast.Settings.MotionPerturbationMethod.self, forKey: .velPertMethod)
        ensemble = try c.decodeIfPresent(ModelNowcast.Ensemble.self, forKey: .ensemble) ?? d.ensemble
        noiseScale = try c.decodeIfPresent(Float.self, forKey: .noiseScale) ?? d.noiseScale
        thresholds = try c.decodeIfPresent([Float].self, forKey: .thresholds) ?? d.thresholds
        institution = try c.decodeIfPresent(String.self, forKey: .institution) ?? d.institution
        title = try c.decodeIfPresent(String.self, forKey: .title)
        deflateLevel = try c.decodeIfPresent(Int.self, forKey: .deflateLevel) ?? d.deflateLevel
        output = try c.decodeIfPresent(String.self, forKey: .output) ?? d.output
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model)
        try c.encode(inputs, forKey: .inputs)
        try field.encode(to: encoder)
        try c.encode(time, forKey: .time)
        try c.encode(leadtimes, forKey: .leadtimes)
        try c.encode(members, forKey: .members)
        try c.encodeIfPresent(member, forKey: .member)
        try c.encode(seed, forKey: .seed)
        try c.encode(transforms, forKey: .transforms)
        try c.encode(motionFrames, forKey: .motionFrames)
        try c.encodeIfPresent(motionMethod, forKey: .motionMethod)
        try c.encode(outside, forKey: .outside)
        try c.encode(cascadeLevels, forKey: .cascadeLevels)
        try c.encodeIfPresent(noiseMethod, forKey: .noiseMethod)
        try c.encodeIfPresent(maskMethod, forKey: .maskMethod)
        try c.encodeIfPresent(probmatchingMethod, forKey: .probmatchingMethod)
        try c.encodeIfPresent(velPertMethod, forKey: .velPertMethod)
        try c.encode(ensemble, forKey: .ensemble)
        try c.encode(noiseScale, forKey: .noiseScale)
        try c.encode(thresholds, forKey: .thresholds)
        try c.encode(institution, forKey: .institution)
        try c.encodeIfPresent(title, forKey: .title)
        try c.encode(deflateLevel, forKey: .deflateLevel)
        try c.encode(output, forKey: .output)
    }

    /// The keys a config file may hold: its own and the field-reading ones, all at the top level.
    public static let knownKeys: [String: Set<String>] = [
        "": Set(CodingKeys.allCases.map(\.rawValue)).union(FieldReadOptions.CodingKeys.allCases.map(\.rawValue)),
    ]

    /// Checks every value; errors name the key.
    public func validate() throws {
        func require(_ ok: Bool, _ key: String, _ expected: String, _ found: Any) throws {
            if !ok { throw ForecastError.setting(key: key, expected: expected, found: "\(found)") }
        }
        try require(!inputs.isEmpty, "inputs", "at least one file, folder or pattern", "none")
        try require(!output.isEmpty, "output", "the path of the product file (.nc)", "nothing")
        try require(leadtimes >= 1 && leadtimes <= 10_000, "leadtimes", "1 to 10000", leadtimes)
        try require(members >= 1 && members <= 10_000, "members", "1 to 10000", members)
        if let member { try require(member >= 0 && member < members, "member", "0 to \(members - 1) (members \(members))", member) }
        try require(motionFrames >= 2, "motion_frames", "at least 2", motionFrames)
        try require(thresholds.allSatisfy(\.isFinite), "thresholds", "finite numbers", thresholds)
        try require(noiseScale.isFinite && noiseScale > 0 && noiseScale <= 10, "noise_scale", "a number above 0 and at most 10", noiseScale)
        try require((1...9).contains(deflateLevel), "deflate_level", "1 to 9", deflateLevel)
        try require((3...12).contains(cascadeLevels), "cascade_levels", "3 to 12", cascadeLevels)
        _ = try transformChain()
        let stepsChoices = [("noise_method", noiseMethod != nil), ("mask_method", maskMethod != nil),
                            ("probmatching_method", probmatchingMethod != nil), ("vel_pert_method", velPertMethod != nil)]
        if let key = stepsChoices.first(where: \.1)?.0 {
            try require(model == "steps" || model == "sprog", key, "model steps or sprog (a STEPS choice)", "model \(model)")
        }
        if motionMethod != nil {
            try require(["extrapolation", "steps", "sprog"].contains(model), "motion_method", "model extrapolation, steps or sprog (which estimate a motion)", "model \(model)")
        }
        if Self.builtInModels.contains(model) {
            try require(ensemble == .deep, "ensemble", "deep (the default) for \(model); noise ensembles perturb a trained run's inputs", ensemble.rawValue)
        } else {
            try require(FileManager.default.fileExists(atPath: model), "model", "persistence, extrapolation, steps, sprog or a run or model folder", "'\(model)' (no such folder)")
        }
    }

    /// The extrapolation's transform chain (`none`: physical units).
    public func transformChain() throws -> TransformChain {
        if transforms == ["none"] { return TransformChain() }
        do { return TransformChain(try transforms.map { try Transform(parsing: $0) }) } catch {
            throw ForecastError.setting(key: "transforms", expected: "convert's transforms (rate:MIN, dbr:T:ZERO, ...) or none", found: "\(transforms): \(error)")
        }
    }

    /// STEPS's settings: the model's defaults (`steps` or `sprog`) with the choices given.
    public func stepsSettings() -> StepsNowcast.Settings {
        var settings = model == "sprog" ? StepsNowcast.Settings.sprog : StepsNowcast.Settings()
        settings.levels = cascadeLevels
        if let noiseMethod { settings.noise = noiseMethod }
        if let maskMethod { settings.mask = maskMethod }
        if let probmatchingMethod { settings.matching = probmatchingMethod }
        if let velPertMethod { settings.motionPerturbation = velPertMethod }
        return settings
    }

    /// The time asked for, nil for the latest.
    public func referenceTime() throws -> Date? {
        guard time != "latest" else { return nil }
        guard let date = UTCTime.parse(time) else {
            throw ForecastError.setting(key: "time", expected: "latest or an ISO 8601 time such as 2020-10-31T06:00:00Z", found: time)
        }
        return date
    }
}
