import Foundation
import NowcastData
import NowcastForecast
import NowcastPhysics
import XCTest

/// STEPS as a forecast method: it moves with the rain, its members are reproducible one by one,
/// and what it cannot work with is a clear error (or, for a dry grid, a forecast of no rain).
final class StepsNowcastTests: XCTestCase {
    private let (ny, nx) = (64, 64)
    private let dbr = TransformChain([try! Transform(parsing: "dbr:0.1:-15")])  // swiftlint:disable:this force_try

    /// Rain cells translated by (dx, dy) pixels per step: frame t of `count`.
    private func frames(count: Int = 3, dx: Double = 2, dy: Double = 1) -> [[Float]] {
        (0..<count).map { t in
            (0..<(ny * nx)).map { i -> Float in
                let (x, y) = (Double(i % nx) - dx * Double(t), Double(i / nx) - dy * Double(t))
                let blob = exp(-(pow(x - 24, 2) + pow(y - 28, 2)) / 40) + 0.6 * exp(-(pow(x - 36, 2) + pow(y - 22, 2)) / 25)
                let texture = 0.3 * (1 + sin(x / 1.7) * cos(y / 2.3))
                return Float(max(0, 12 * blob * (1 + texture) - 0.2))
            }
        }
    }

    private func steps(_ input: [[Float]], seed: UInt64 = 3, levels: Int = 5) throws -> StepsNowcast {
        var settings = StepsNowcast.Settings()
        settings.levels = levels
        return try StepsNowcast(frames: input, ny: ny, nx: nx, transforms: dbr, settings: settings, seed: seed,
                                kilometresPerPixel: 1, stepSeconds: 300)
    }

    func testTheEnsembleMovesWithAUniformFlow() throws {
        let input = frames()
        let method = try steps(input)
        XCTAssertEqual(method.motion.u.reduce(0, +) / Float(ny * nx), 2, accuracy: 0.4, "motion along x, pixels per step")
        XCTAssertEqual(method.models.count, 5)
        XCTAssertTrue(method.models.allSatisfy(\.isStationary))
        // The ensemble mean, three steps on, lies on the latest frame moved by (6, 3) pixels: the shift
        // that best overlays them.
        var mean = [Float](repeating: 0, count: ny * nx)
        for member in 0..<4 {
            try method.forecast(member: member, leads: 3) { index, field in
                if index == 2 { for i in mean.indices { mean[i] += (field[i].isFinite ? field[i] : 0) / 4 } }
            }
        }
        XCTAssertTrue(mean.contains { $0 > 1 }, "the rain is kept")
        var best = (score: -Double.infinity, dx: 0, dy: 0)
        for dy in -8...8 {
            for dx in -8...8 {
                var score = 0.0
                for y in 8..<(ny - 8) { for x in 8..<(nx - 8) { score += Double(mean[(y + dy) * nx + x + dx] * input[2][y * nx + x]) } }
                if score > best.score { best = (score, dx, dy) }
            }
        }
        XCTAssertEqual(best.dx, 6, accuracy: 1, "3 steps of 2 pixels along x")
        XCTAssertEqual(best.dy, 3, accuracy: 1, "3 steps of 1 pixel along y")
    }

    func testSPROGKeepsTheWetAreaAndMovesWithTheFlow() throws {
        let input = frames()
        var settings = StepsNowcast.Settings.sprog
        settings.levels = 5
        let method = try StepsNowcast(frames: input, ny: ny, nx: nx, transforms: dbr, settings: settings, seed: 0,
                                      kilometresPerPixel: 1, stepSeconds: 300)
        XCTAssertEqual(method.memberLimit, 1)
        XCTAssertTrue(method.name.hasPrefix("S-PROG"))
        var last: [Float] = []
        try method.forecast(member: 0, leads: 3) { _, field in last = field }
        // The wet area of the latest frame (0.1 mm/h), where the forecast's rain stayed on the grid.
        let wet = { (f: [Float]) in f.filter { $0.isFinite && $0 >= 0.1 }.count }
        XCTAssertEqual(Double(wet(last)), Double(wet(input[2])), accuracy: 0.15 * Double(wet(input[2])))
        var best = (score: -Double.infinity, dx: 0, dy: 0)
        for dy in -8...8 {
            for dx in -8...8 {
                var score = 0.0
                for y in 8..<(ny - 8) { for x in 8..<(nx - 8) { score += Double((last[(y + dy) * nx + x + dx].isFinite ? last[(y + dy) * nx + x + dx] : 0) * input[2][y * nx + x]) } }
                if score > best.score { best = (score, dx, dy) }
            }
        }
        XCTAssertEqual([best.dx, best.dy], [6, 3])
        XCTAssertEqual(PercentileMask.threshold([1, 2, 2, 3, 4], wetAreaRatio: 0.4), 3, "two of five at or above 3")
        XCTAssertEqual(PercentileMask.threshold([0, 0, 0, 5], wetAreaRatio: 0.9), 0, "ties move to the last equal value")
    }

    func testAMemberIsTheSameBitsEachTimeAndItsOwn() throws {
        // A member depends on (seed, member) only: the method has no ensemble size to depend on
        // (ForecastJobTests holds a member computed alone to its place in a written ensemble).
        func member(_ k: Int, seed: UInt64 = 3) throws -> [UInt32] {
            var out: [UInt32] = []
            try steps(frames(), seed: seed).forecast(member: k, leads: 2) { _, field in out += field.map(\.bitPattern) }
            return out
        }
        let first = try member(2)
        XCTAssertEqual(first, try member(2), "the same bits again")
        XCTAssertNotEqual(first, try member(1), "members differ")
        XCTAssertNotEqual(first, try member(2, seed: 4), "seeds differ")
    }

    func testEveryNoiseMaskAndMatchingChoiceForecastsRainWhereItIs() throws {
        // Still rain (the same frame three times): no motion, so the obs mask keeps rain exactly
        // where the latest frame is wet.
        let still = [[Float]](repeating: frames()[2], count: 3)
        let wetArea = still[2].filter { $0 >= 0.1 }.count
        typealias S = StepsNowcast.Settings
        for noise in S.Noise.allCases {
            for mask in S.Mask.allCases {
                for matching in S.Matching.allCases {
                    var settings = S()
                    (settings.levels, settings.noise, settings.mask, settings.matching, settings.motionPerturbation) = (5, noise, mask, matching, .off)
                    let label = "\(noise.rawValue) noise, \(mask.rawValue) mask, \(matching.rawValue) matching"
                    let method = try StepsNowcast(frames: still, ny: ny, nx: nx, transforms: dbr, settings: settings, seed: 5,
                                                  kilometresPerPixel: 1, stepSeconds: 300)
                    XCTAssertTrue(method.name.contains("\(mask.rawValue) mask") && method.name.contains("\(matching.rawValue) matching"), method.name)
                    XCTAssertEqual(method.memberLimit, noise == .off ? 1 : nil, label)
                    var fields: [[Float]] = []
                    try method.forecast(member: 0, leads: 3) { _, field in fields.append(field) }
                    for field in fields {
                        XCTAssertTrue(field.allSatisfy { $0.isFinite && $0 >= 0 }, label)
                        XCTAssertGreaterThan(field.filter { $0 >= 0.1 }.count, wetArea / 3, "\(label): the rain is kept")
                    }
                    if mask == .observed {
                        XCTAssertTrue(fields.allSatisfy { field in field.indices.allSatisfy { field[$0] < 0.1 || still[2][$0] >= 0.1 } },
                                      "\(label): no rain outside the latest wet area")
                    }
                    if matching == .cdf, mask != .off {
                        // The matched field takes the latest frame's values, so about its wet area.
                        XCTAssertEqual(Double(fields[2].filter { $0 >= 0.1 }.count), Double(wetArea), accuracy: 0.2 * Double(wetArea), label)
                    }
                }
            }
        }
    }

    func testTheParametricNoiseDrivesDifferentMembers() throws {
        var settings = StepsNowcast.Settings()
        (settings.levels, settings.noise) = (5, .parametric)
        var said: [String] = []
        let method = try StepsNowcast(frames: frames(), ny: ny, nx: nx, transforms: dbr, settings: settings, seed: 3,
                                      kilometresPerPixel: 1, stepSeconds: 300, log: { said.append($0) })
        XCTAssertTrue(said.contains { $0.contains("parametric noise: power slope") }, "\(said)")
        var members: [[Float]] = []
        for k in 0..<2 { try method.forecast(member: k, leads: 2) { index, field in if index == 1 { members.append(field) } } }
        XCTAssertNotEqual(members[0].map(\.bitPattern), members[1].map(\.bitPattern))
    }

    func testWhatSTEPSCannotWorkWith() throws {
        XCTAssertThrowsError(try steps(Array(frames().prefix(2)))) { XCTAssertTrue("\($0)".contains("3 frames"), "\($0)") }
        XCTAssertThrowsError(try steps(frames(), levels: 12)) { XCTAssertTrue("\($0)".contains("cascade_levels"), "\($0)") }
        // No rain at all: a forecast of no rain, said once.
        var said: [String] = []
        let dry = [[Float]](repeating: [Float](repeating: 0, count: ny * nx), count: 3)
        let method = try StepsNowcast(frames: dry, ny: ny, nx: nx, transforms: dbr, seed: 1, kilometresPerPixel: 1, stepSeconds: 300,
                                      log: { said.append($0) })
        XCTAssertEqual(said.count, 1)
        XCTAssertTrue(said.first?.contains("no rain") ?? false)
        try method.forecast(member: 1, leads: 2) { _, field in XCTAssertEqual(Set(field), [0]) }
    }
}
