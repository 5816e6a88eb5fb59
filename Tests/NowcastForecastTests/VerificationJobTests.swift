import Foundation
import NowcastData
import NowcastForecast
import NowcastIO
import NowcastTestSupport
import NowcastVerify
import XCTest

/// `VerificationJob` on a generated archive: products of a method score exactly as the baseline
/// of that method does, reports merge into the report of all their products, and what does not
/// fit is one error naming the files.
final class VerificationJobTests: XCTestCase {
    /// An archive of 20 frames of 40 x 40 every 10 minutes and products of `model` from three
    /// reference times (00:40, 01:00, 01:20), 4 lead times each.
    private func setUp(model: String, members: Int = 1, times: [String] = ["00:40", "01:00", "01:20"]) throws -> (archive: String, products: String) {
        let dir = try temporaryFolder(self, prefix: "verify-job")
        try SyntheticData.archive(dir + "/archive", frames: 20, size: 40, step: 10, seed: 5)
        try FileManager.default.createDirectory(atPath: dir + "/products", withIntermediateDirectories: true)
        for time in times {
            var c = ForecastConfig()
            c.model = model
            c.inputs = [dir + "/archive"]
            c.time = "2024-06-01T\(time):00Z"
            c.leadtimes = 4
            c.members = members
            c.output = dir + "/products/\(model)-\(time.replacingOccurrences(of: ":", with: "")).nc"
            _ = try ForecastJob(config: c).run()
        }
        return (dir + "/archive", dir + "/products")
    }

    private func config(_ products: [String], archive: String, label: String = "model") -> VerificationConfig {
        var c = VerificationConfig()
        c.sources = [.init(products: products, label: label)]
        c.observations = [archive]
        c.thresholds = [0.5, 2]
        c.scales = [1, 5]
        return c
    }

    func testAPersistenceProductScoresExactlyAsThePersistenceBaseline() throws {
        let (archive, products) = try setUp(model: "persistence")
        let result = try VerificationJob(config: config([products], archive: archive)).run()
        let scores = Dictionary(uniqueKeysWithValues: result.report.scores.map { ($0.label, $0) })
        let model = try XCTUnwrap(scores["model"]), persistence = try XCTUnwrap(scores["persistence"])
        XCTAssertEqual(result.products, 3)
        XCTAssertEqual(model.referenceTimes, persistence.referenceTimes)
        XCTAssertEqual(model.continuous, persistence.continuous)
        XCTAssertEqual(model.categorical, persistence.categorical)
        XCTAssertEqual(model.fractions, persistence.fractions)
        XCTAssertGreaterThan(model.continuous.leads[0].count, 0)
        // On moving rain, extrapolation beats persistence.
        let extrapolation = try XCTUnwrap(scores["extrapolation"])
        XCTAssertLessThan(extrapolation.continuous.leads[0].meanAbsoluteError, persistence.continuous.leads[0].meanAbsoluteError)
    }

    func testAnExtrapolationProductScoresExactlyAsTheExtrapolationBaseline() throws {
        let (archive, products) = try setUp(model: "extrapolation")
        let result = try VerificationJob(config: config([products], archive: archive)).run()
        let model = try XCTUnwrap(result.report.scores.first { $0.label == "model" })
        let baseline = try XCTUnwrap(result.report.scores.first { $0.label == "extrapolation" })
        XCTAssertEqual(model.continuous, baseline.continuous, "same motion, same advection, same dBR round trip")
        XCTAssertEqual(model.categorical, baseline.categorical)
    }

    func testCommonPixelsScoreEverySourceOnTheSamePixels() throws {
        let (archive, persistence) = try setUp(model: "persistence")
        let extrapolation = try setUp(model: "extrapolation").products
        var c = config([persistence], archive: archive, label: "persist")
        c.sources.append(.init(products: [extrapolation], label: "extrap"))
        let apart = try VerificationJob(config: c).run().report
        c.commonPixels = true
        XCTAssertThrowsError(try VerificationJob(config: c).run(), "common pixels with NaN read as no rain") { XCTAssertTrue("\($0)".contains("missing"), "\($0)") }
        c.rules.categoricalMissing = .leftOut
        let common = try VerificationJob(config: c).run().report
        func scores(_ report: VerificationReport, _ label: String) throws -> ForecastScores { try XCTUnwrap(report.scores.first { $0.label == label }, label) }
        // Rain advected in from outside the grid is missing in the extrapolations: apart, persistence
        // counts more pixels than they do; on common pixels every source counts the same.
        let lead = 3
        XCTAssertGreaterThan(try scores(apart, "persist").continuous.leads[lead].count, try scores(apart, "extrap").continuous.leads[lead].count)
        let counts = try ["persist", "extrap", "persistence", "extrapolation"].map { try scores(common, $0).continuous.leads[lead].count }
        XCTAssertEqual(Set(counts).count, 1, "\(counts)")
        XCTAssertEqual(counts[0], try scores(apart, "extrap").continuous.leads[lead].count, "the extrapolation's own valid pixels are the common ones")
        XCTAssertEqual(try scores(common, "persist").continuous, try scores(common, "persistence").continuous, "same fields, same pixels")
        XCTAssertEqual(common.settings.commonPixels, true)
        var both = apart
        XCTAssertThrowsError(try both.merge(common), "reports of other pixel rules do not merge")
    }

    func testReportsOfHalvesMergeIntoTheReportOfAll() throws {
        let (archive, products) = try setUp(model: "extrapolation", members: 3)
        let files = try FileManager.default.contentsOfDirectory(atPath: products).sorted().map { products + "/" + $0 }
        let all = try VerificationJob(config: config(files, archive: archive)).run().report
        var merged = try VerificationJob(config: config(Array(files[..<1]), archive: archive)).run().report
        try merged.merge(try VerificationJob(config: config(Array(files[1...]), archive: archive)).run().report)
        XCTAssertEqual(merged.scores.map(\.label), all.scores.map(\.label))
        for (a, b) in zip(merged.scores, all.scores) {
            XCTAssertEqual(a.referenceTimes, b.referenceTimes)
            XCTAssertEqual(a.categorical, b.categorical, a.label)
            for lead in 0..<4 {
                XCTAssertEqual(a.continuous.leads[lead].count, b.continuous.leads[lead].count)
                XCTAssertEqual(a.continuous.leads[lead].absoluteError, b.continuous.leads[lead].absoluteError, accuracy: 1e-9 * max(1, b.continuous.leads[lead].absoluteError))
                if let ea = a.ensemble?.leads[lead], let eb = b.ensemble?.leads[lead] {
                    XCTAssertEqual(ea.fair, eb.fair, accuracy: 1e-9 * max(1, eb.fair))
                    for (ra, rb) in zip(ea.ranks, eb.ranks) { XCTAssertEqual(ra, rb, accuracy: 1e-9 * max(1, rb)) }
                }
            }
        }
        XCTAssertNotNil(all.scores[0].ensemble, "a 3-member source gets the ensemble scores")
        // The same products twice would count twice: refused.
        XCTAssertThrowsError(try merged.merge(all)) { XCTAssertTrue("\($0)".contains("at the same"), "\($0)") }
        var other = all
        other.settings.thresholds = [1]
        XCTAssertThrowsError(try merged.merge(other)) { XCTAssertTrue("\($0)".contains("the same settings"), "\($0)") }
    }

    func testBlockMeansOfFinerObservationsMatchACoarsenedProduct() throws {
        let fine = Grid(x: (0..<8).map { Double($0) * 1000 }, y: (0..<6).map { Double($0) * -1000 }, xyUnits: "m")
        let coarse = Grid(x: [500, 2500, 4500, 6500], y: [-500, -2500, -4500], xyUnits: "m")
        XCTAssertEqual(fine.blockFactor(of: coarse), 2)
        XCTAssertTrue(fine.coarsened(by: 2).matches(coarse))
        var shifted = coarse
        shifted.x = shifted.x.map { $0 + 300 }
        XCTAssertNil(fine.blockFactor(of: shifted), "cell centres off by 300 m are another grid")
    }

    func testWhatDoesNotFitIsOneErrorNamingTheFiles() throws {
        let (archive, products) = try setUp(model: "persistence", times: ["01:20", "02:50"])
        let late = products + "/persistence-0250.nc"
        // 02:50 + 4 leads runs past the archive's last frame (03:10 is the last).
        assertFails(try VerificationJob(config: config([late], archive: archive)).run(), mentions: ["no observation valid at 2024-06-01T03:20:00Z", "lead 3", late])

        // A product in other units than the observations.
        let first = try CFForecastFile(path: products + "/persistence-0120.nc")
        let reflectivity = products + "/../dbz.nc"
        let layout = ForecastProductLayout(grid: first.grid, quantity: CFQuantity.forField(units: "dBZ", quantity: "equivalent_reflectivity_factor"),
                                           referenceTime: first.referenceTime, stepSeconds: 600, leadTimes: 1, realizations: [0], thresholds: [],
                                           inputTimes: [], motion: false, globals: Attributes())
        let writer = try CFProductWriter(path: reflectivity, layout: layout)
        try writer.write(member: 0, lead: 0, field: [Float](repeating: 20, count: 1600))
        try writer.finish()
        assertFails(try VerificationJob(config: config([reflectivity], archive: archive)).run(), mentions: ["'dBZ'", "'mm h-1'", "dbz.nc", "--transform"])

        let other = try temporaryFolder(self, prefix: "verify-grid")
        try SyntheticData.archive(other, frames: 12, size: 36, step: 10, seed: 5)
        assertFails(try VerificationJob(config: config([products + "/persistence-0120.nc"], archive: other)).run(),
                    mentions: ["40 x 40", "36 x 36", "persistence-0120.nc", other])

        var bad = config([products], archive: archive)
        bad.scales = [0]
        assertFails(try VerificationJob(config: bad).run(), mentions: ["scales"])
        bad = config([products], archive: archive, label: "persistence")
        assertFails(try VerificationJob(config: bad).run(), mentions: ["'persistence' twice"])
    }
}
