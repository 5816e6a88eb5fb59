import Foundation
import NowcastCore
import NowcastData
import NowcastForecast
import NowcastIO
import NowcastModels
import NowcastTestSupport
import NowcastTrain
import XCTest

/// A generated archive of 50 x 50 cells every 10 minutes (50 is no multiple of a U-Net's 4), and a
/// small U-Net trained on 24 x 24 patches of it, shared by the tests of this file.
private let shared: Result<(archive: String, run: String), Error> = Result {
    let store = try SyntheticData.store("forecast", size: 50, frames: 40, seed: 7,
                                        window: WindowSpec(inputs: 3, targets: 2, stride: 1, patchSize: 24, patchStride: 24),
                                        split: SplitSpec(blockHours: 2, validation: 0.3, test: 0.0, seed: 2), shardSize: 16,
                                        filters: WindowFilters(maxMissingFraction: 0.05, minWetFraction: 0.0, wetThreshold: 0.1))
    let folder = (store as NSString).deletingLastPathComponent
    return (folder + "/archive", try trainSmallUNet(store: store, output: folder + "/run", members: 2, dropout: 0))
}

/// Two steps of a depth-2 U-Net (or `model`) on `store`: the weights barely matter, the run folder does.
private func trainSmallUNet(store: String, output: String, members: Int, dropout: Float, model: ModelSpec? = nil) throws -> String {
    var config = TrainConfig()
    config.store = store
    config.output = output
    config.model = model ?? ModelSpec(type: .unet, base: 4, depth: 2, dropout: dropout)
    config.members = members
    config.batchSize = 4
    config.shuffleBuffer = 8
    config.steps = 2
    config.validation.every = 2
    config.checkpoint.every = 2
    _ = try TrainingRun(config: config).run(resume: false)
    return output
}

/// The same training with dropout 0.3 before the head, for MC-dropout members.
private let dropoutRun: Result<String, Error> = Result {
    let run = try shared.get().run
    XCTAssertEqual(try EnsembleArtifact.load(run).artifact.model.dropout, 0)
    let folder = (run as NSString).deletingLastPathComponent
    return try trainSmallUNet(store: folder + "/store", output: folder + "/dropout-run", members: 1, dropout: 0.3)
}

/// The same training of a physics-hybrid model (advection by a learned motion, a learned source,
/// a trainable diffusion coefficient).
private let hybridRun: Result<String, Error> = Result {
    let run = try shared.get().run
    let folder = (run as NSString).deletingLastPathComponent
    var spec = ModelSpec(type: .hybrid, base: 4, depth: 2)
    spec.equation = "dt(q) = -(u*dx(q) + v*dy(q)) + k*lap(q) + S(q)"
    spec.coefficients = ["k": 0.05]
    spec.maxSpeed = 2
    return try trainSmallUNet(store: folder + "/store", output: folder + "/hybrid-run", members: 1, dropout: 0, model: spec)
}

/// The hybrid model again with Lucas-Kanade's motion of the input frames in place of the network.
private let lucasKanadeHybridRun: Result<String, Error> = Result {
    let run = try shared.get().run
    let folder = (run as NSString).deletingLastPathComponent
    var spec = ModelSpec(type: .hybrid, base: 4, depth: 2)
    spec.motion = .lucasKanade
    spec.maxSpeed = 2
    return try trainSmallUNet(store: folder + "/store", output: folder + "/hybrid-lk-run", members: 1, dropout: 0, model: spec)
}

final class ForecastJobTests: XCTestCase {
    func testAHybridRunWithLucasKanadeMotionTrainsAndForecasts() throws {
        let run = try lucasKanadeHybridRun.get()
        let artifact = try EnsembleArtifact.load(run).artifact
        XCTAssertEqual(artifact.model.motion, .lucasKanade, "the motion's source is part of the model folder")
        let output = try temporaryFolder(self) + "/hybrid-lk.nc"
        var c = try config(run, output: output)
        c.leadtimes = 3
        let summary = try ForecastJob(config: c).run()
        XCTAssertTrue(summary.method.hasPrefix("hybrid"), summary.method)
        XCTAssertTrue(artifact.model.summary.contains("lucas-kanade motion"), artifact.model.summary)
        let values = try values(output)
        XCTAssertEqual(values.count, 3 * 50 * 50)
        XCTAssertTrue(values.allSatisfy { $0.isNaN || ($0.isFinite && $0 >= 0) })
        XCTAssertTrue(values.contains { !$0.isNaN && $0 > 0 })
    }

    func testAHybridRunTrainsAndForecastsTheWholeDomainWithItsEquation() throws {
        let run = try hybridRun.get()
        let artifact = try EnsembleArtifact.load(run).artifact
        XCTAssertEqual(artifact.model.type, .hybrid)
        XCTAssertEqual(artifact.model.equation, "dt(q) = -(u*dx(q) + v*dy(q)) + k*lap(q) + S(q)", "the equation is part of the model folder")
        let output = try temporaryFolder(self) + "/hybrid.nc"
        var c = try config(run, output: output)
        c.leadtimes = 3
        let summary = try ForecastJob(config: c).run()
        XCTAssertEqual(summary.leadtimes, 3)
        XCTAssertTrue(summary.method.hasPrefix("hybrid"), summary.method)
        let values = try values(output)
        XCTAssertEqual(values.count, 3 * 50 * 50, "the whole 50 x 50 domain, padded for the U-Nets and cut back")
        XCTAssertTrue(values.allSatisfy { $0.isNaN || ($0.isFinite && $0 >= 0) })
        XCTAssertTrue(values.contains { !$0.isNaN })
    }

    private func config(_ model: String, output: String) throws -> ForecastConfig {
        var c = ForecastConfig()
        c.model = model
        c.inputs = [try shared.get().archive]
        c.output = output
        c.leadtimes = 4
        return c
    }

    private func values(_ path: String, _ name: String = "rainfall_rate") throws -> [Double] {  // the synthetic archive says rainfall_rate
        try NetCDFFile(path: path).variable(name).readAllDoubles()
    }

    func testAnExtrapolationEnsembleMemberComputedAloneIsBitIdentical() throws {
        let folder = try temporaryFolder(self)
        var c = try config("extrapolation", output: folder + "/ensemble.nc")
        c.members = 3
        c.seed = 11
        let summary = try ForecastJob(config: c).run()
        XCTAssertEqual(summary.members, [0, 1, 2])
        XCTAssertNotNil(summary.motionSpeed)
        let ensemble = try values(c.output)
        let plane = 50 * 50, perMember = c.leadtimes * plane
        XCTAssertEqual(ensemble.count, 3 * perMember)
        XCTAssertNotEqual(Array(ensemble[0..<perMember]), Array(ensemble[perMember..<(2 * perMember)]), "perturbed members differ")
        c.member = 1
        c.output = folder + "/member-1.nc"
        _ = try ForecastJob(config: c).run()
        let alone = try values(c.output)
        XCTAssertEqual(alone.count, perMember)
        XCTAssertTrue(zip(alone, ensemble[perMember..<(2 * perMember)]).allSatisfy { $0.bitPattern == $1.bitPattern }, "bit for bit")
        XCTAssertEqual(try values(c.output, "realization"), [1])
        XCTAssertEqual(try NetCDFFile(path: c.output).variable("motion_x").attributes["units"]?.stringValue, "m s-1")
    }

    func testASTEPSEnsembleIsAProductWithItsMembersRecomputableAlone() throws {
        let folder = try temporaryFolder(self)
        var c = try config("steps", output: folder + "/steps.nc")
        (c.members, c.seed, c.cascadeLevels) = (3, 5, 4)
        let summary = try ForecastJob(config: c).run()
        XCTAssertEqual(summary.members, [0, 1, 2])
        XCTAssertTrue(summary.method.hasPrefix("STEPS (4 cascade levels"), summary.method)
        let ensemble = try values(c.output)
        let perMember = c.leadtimes * 50 * 50
        XCTAssertTrue(ensemble.allSatisfy { $0.isNaN || ($0 >= 0 && $0.isFinite) }, "rain rates, NaN only where missing")
        XCTAssertTrue(ensemble.contains { $0 > 0.5 }, "rain is forecast")
        c.member = 2
        c.output = folder + "/member-2.nc"
        _ = try ForecastJob(config: c).run()
        let alone = try values(c.output)
        XCTAssertTrue(zip(alone, ensemble[(2 * perMember)...]).allSatisfy { $0.bitPattern == $1.bitPattern }, "bit for bit")
        c.cascadeLevels = 13
        assertFails(try ForecastJob(config: c).run(), mentions: ["cascade_levels", "3 to 12"])
    }

    func testPersistenceHoldsTheLastObservation() throws {
        let folder = try temporaryFolder(self)
        let c = try config("persistence", output: folder + "/persistence.nc")
        let summary = try ForecastJob(config: c).run()
        let series = try FrameSeries(files: try ArchiveListing.files(c.inputs))
        let last = try series.frame(series.count - 1)
        XCTAssertEqual(summary.referenceTime, last.validTime)
        let product = try values(c.output)
        for lead in 0..<c.leadtimes {
            for i in stride(from: 0, to: 2500, by: 97) {
                let (a, b) = (product[lead * 2500 + i], Double(last.values[i]))
                XCTAssertTrue(a == b || (a.isNaN && b.isNaN), "lead \(lead) pixel \(i): \(a) vs \(b)")
            }
        }
    }

    func testAModelRunForecastsTheWholeDomainPastItsOutputFrames() throws {
        let folder = try temporaryFolder(self)
        var c = try config(try shared.get().run, output: folder + "/unet.nc")
        c.members = 2
        c.leadtimes = 5  // the model makes 2 frames a call: 2 + 2 + 1 fed back
        let summary = try ForecastJob(config: c).run()
        XCTAssertEqual(summary.inputTimes.count, 3)
        let product = try values(c.output)
        XCTAssertEqual(product.count, 2 * 5 * 50 * 50, "the whole 50 x 50 domain, padded to 52 x 52 inside and cut back")
        XCTAssertTrue(product.allSatisfy { $0.isFinite && $0 >= 0 }, "rates, no missing value: missing inputs are filled")
        XCTAssertNotEqual(Array(product[0..<2500]), Array(product[(5 * 2500)..<(6 * 2500)]), "deep-ensemble members differ")
        // The first two leads of one call agree with the forecaster on the same frames.
        let forecaster = try EnsembleForecaster(modelFolder: c.model)
        let series = try FrameSeries(files: try ArchiveListing.files(c.inputs))
        let frames = try ((series.count - 3)..<series.count).map { try series.frame($0).values }
        let direct = try forecaster.forecast(member: 1, frames: frames, ny: 50, nx: 50, leads: 2)
        XCTAssertEqual(direct[1].map(Double.init), Array(product[(6 * 2500)..<(7 * 2500)]))
    }

    func testANoiseEnsembleOfARunMakesAnyNumberOfReproducibleMembers() throws {
        let folder = try temporaryFolder(self)
        var c = try config(try shared.get().run, output: folder + "/noise.nc")
        c.ensemble = .noise
        c.members = 3  // more than the run's two trained members
        c.leadtimes = 2
        c.seed = 4
        _ = try ForecastJob(config: c).run()
        let ensemble = try values(c.output), perMember = 2 * 2500
        XCTAssertTrue(ensemble.allSatisfy { $0.isFinite && $0 >= 0 })
        c.ensemble = .deep
        c.members = 1
        c.output = folder + "/deep.nc"
        _ = try ForecastJob(config: c).run()
        XCTAssertNotEqual(Array(ensemble[0..<perMember]), try values(c.output), "noise changes member 0's forecast")
        c.ensemble = .noise
        c.members = 3
        c.member = 2
        c.output = folder + "/member-2.nc"
        _ = try ForecastJob(config: c).run()
        XCTAssertEqual(try values(c.output), Array(ensemble[(2 * perMember)..<(3 * perMember)]), "member 2 alone, the same bits")
    }

    func testMCDropoutMembersDifferAndRepeat() throws {
        let folder = try temporaryFolder(self)
        var c = try config(try dropoutRun.get(), output: folder + "/mc.nc")
        c.ensemble = .dropout
        c.members = 3
        c.leadtimes = 3
        _ = try ForecastJob(config: c).run()
        let ensemble = try values(c.output), perMember = 3 * 2500
        XCTAssertTrue(ensemble.allSatisfy { $0.isFinite && $0 >= 0 })
        XCTAssertNotEqual(Array(ensemble[0..<perMember]), Array(ensemble[perMember..<(2 * perMember)]), "masks differ between members")
        c.member = 2
        c.output = folder + "/member-2.nc"
        _ = try ForecastJob(config: c).run()
        XCTAssertEqual(try values(c.output), Array(ensemble[(2 * perMember)..<(3 * perMember)]), "member 2 alone, the same bits")
        // The run trained without dropout cannot make MC-dropout members.
        var plain = try config(try shared.get().run, output: folder + "/plain.nc")
        plain.ensemble = .dropout
        assertFails(try ForecastJob(config: plain).run(), mentions: ["'ensemble'", "trained with dropout"])
    }

    func testBadInputsAreOneLineAndLeaveNoProduct() throws {
        let folder = try temporaryFolder(self)
        let output = folder + "/out.nc"
        func job(_ change: (inout ForecastConfig) -> Void) throws -> ForecastJob {
            var c = try config("extrapolation", output: output)
            change(&c)
            return ForecastJob(config: c)
        }
        assertFails(try job { $0.time = "2024-06-02T00:00:00Z" }.run(), mentions: ["no frame valid at 2024-06-02T00:00:00Z"])
        assertFails(try job { $0.time = "2024-06-01T00:10:00Z" }.run(), mentions: ["3 consecutive frames", "starts at 2024-06-01T00:00:00Z"])
        assertFails(try job { $0.time = "yesterday" }.run(), mentions: ["'time'", "ISO 8601"])
        assertFails(try job { $0.members = 0 }.run(), mentions: ["'members'", "1 to 10000", "0"])
        assertFails(try job { $0.member = 3; $0.members = 2 }.run(), mentions: ["'member'", "0 to 1"])
        assertFails(try job { $0.model = "persistence"; $0.members = 2 }.run(), mentions: ["'members'", "at most 1", "persistence"])
        assertFails(try job { $0.model = folder + "/no-such-run" }.run(), mentions: ["'model'", "no such folder"])
        assertFails(try job { $0.model = folder }.run(), mentions: ["not a trained model"])
        assertFails(try job { $0.transforms = ["dbr:0.1:-15", "zscore"] }.run(), mentions: ["transforms", "zscore"])
        assertFails(try job { $0.output = folder + "/missing-folder/out.nc" }.run(), mentions: ["missing-folder"])
        assertFails(try job { $0.ensemble = .noise }.run(), mentions: ["'ensemble'", "deep"])
        assertFails(try job { $0.noiseScale = .nan }.run(), mentions: ["'noise_scale'"])
        let first = try ArchiveListing.files([try shared.get().archive])[0]
        assertFails(try job { $0.model = "persistence"; $0.inputs = [first] }.run(), mentions: ["one frame", "no time step"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), [], "nothing written")
    }

    func testAConfigFileTakesEveryKeyAndNamesAnUnknownOne() throws {
        let c = try ForecastConfig.parse("""
        model: extrapolation
        inputs: [/data/radar]
        time: 2020-10-31T06:00:00Z
        leadtimes: 6
        members: 8
        seed: 3
        transforms: [rate:10, dbr:0.1:-15]
        outside: zero
        thresholds: [1, 5]
        motion_frames: 2
        motion_method: variational
        quantity: RATE
        output: out.nc
        """, source: "forecast.yaml")
        XCTAssertEqual(c.members, 8)
        XCTAssertEqual(c.outside, .noRain)
        XCTAssertEqual(c.thresholds, [1, 5])
        XCTAssertEqual(c.motionMethod, .variational)
        XCTAssertEqual(c.field.quantity, "RATE")
        XCTAssertEqual(try c.transformChain().steps.count, 2)
        XCTAssertEqual(try c.referenceTime(), UTCTime.parse("2020-10-31T06:00:00Z"))
        assertFails(try ForecastConfig.parse("leadtime: 6\n", source: "forecast.yaml"), mentions: ["forecast.yaml", "unknown key 'leadtime'", "leadtimes"])
        assertFails(try ForecastConfig.parse("outside: far\n", source: "forecast.yaml"), mentions: ["forecast.yaml", "outside"])
        assertFails(try ForecastConfig.parse("motion_method: vet\n", source: "forecast.yaml"), mentions: ["forecast.yaml", "motion_method"])
        var persistence = c
        persistence.model = "persistence"
        assertFails(try persistence.validate(), mentions: ["motion_method", "extrapolation, steps or sprog"])
        // STEPS's choices under pySTEPS's names: over the model's defaults, and only for STEPS.
        let steps = try ForecastConfig.parse("""
        model: sprog
        noise_method: parametric
        mask_method: obs
        probmatching_method: mean
        vel_pert_method: bps
        cascade_levels: 5
        """, source: "steps.yaml")
        let settings = steps.stepsSettings()
        XCTAssertEqual([settings.noise.rawValue, settings.mask.rawValue, settings.matching.rawValue, settings.motionPerturbation.rawValue],
                       ["parametric", "obs", "mean", "bps"])
        XCTAssertEqual(settings.levels, 5)
        XCTAssertEqual(try ForecastConfig.parse("model: sprog\n", source: "s.yaml").stepsSettings().mask, .sprog, "sprog's own default")
        assertFails(try ForecastConfig.parse("mask_method: dilated\n", source: "steps.yaml"), mentions: ["steps.yaml", "mask_method"])
        var other = c
        other.maskMethod = .observed
        assertFails(try other.validate(), mentions: ["mask_method", "steps or sprog"])
    }

    func testTruncatedWeightsAreNamed() throws {
        let folder = try temporaryFolder(self)
        let model = folder + "/model"
        try FileManager.default.copyItem(atPath: try shared.get().run + "/model", toPath: model)
        let weights = model + "/member-1.safetensors"
        let data = try Data(contentsOf: URL(fileURLWithPath: weights))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: weights))
        var c = try config(model, output: folder + "/out.nc")
        c.members = 2
        assertFails(try ForecastJob(config: c).run(), mentions: ["member-1.safetensors"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: c.output))
    }

    func testAGapAmongTheInputFramesNamesTheMissingTime() throws {
        let folder = try temporaryFolder(self)
        let files = try ArchiveListing.files([try shared.get().archive])
        var c = try config("extrapolation", output: folder + "/out.nc")
        c.inputs = Array(files.prefix(6)) + Array(files[7..<10])  // 01:00 left out
        c.time = "2024-06-01T01:20:00Z"
        assertFails(try ForecastJob(config: c).run(), mentions: ["2024-06-01T01:00:00Z", "is missing"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: c.output))
    }

    func testAnArchiveOnAnotherGridThanTheModelsIsNamed() throws {
        let folder = try temporaryFolder(self)
        try SyntheticData.archive(folder + "/other", frames: 4, size: 48)
        var c = try config(try shared.get().run, output: folder + "/out.nc")
        c.inputs = [folder + "/other"]
        assertFails(try ForecastJob(config: c).run(), mentions: ["48 x 48", "50 x 50", folder + "/other"])
    }

    func testNaNOnlyInputsAreRefused() throws {
        let folder = try temporaryFolder(self)
        let files = try ArchiveListing.files([try shared.get().archive])
        let frame = try openFieldFile(files[0]).readFrame(0)
        for k in 0..<3 {
            try CFRainRateWriter.write([Float](repeating: .nan, count: 2500), grid: frame.grid, time: frame.validTime.addingTimeInterval(Double(k) * 600),
                                       to: folder + "/empty-\(k).nc", step: 0.01, deflateLevel: 1, longName: "rain", globals: Attributes())
        }
        var c = try config("extrapolation", output: folder + "/out.nc")
        c.inputs = [folder]
        assertFails(try ForecastJob(config: c).run(), mentions: ["every value", "missing"])
    }
}
