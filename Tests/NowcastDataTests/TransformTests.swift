import Foundation
import NowcastCore
import NowcastData
import NowcastIO
import XCTest
import NowcastTestSupport

final class TransformTests: XCTestCase {
    private let rates: [Float] = [0, 0.05, 0.1, 0.5, 1, 3.7, 12, 55, 150, .nan]

    func testEveryInvertibleTransformRoundTrips() throws {
        let transforms: [Transform] = [
            .accumulationToRate(minutes: 10), .decibel(threshold: 0.1, zeroValue: -15), .log(epsilon: 0.01),
            .boxCox(lambda: 0.5, epsilon: 0.01), .boxCox(lambda: 0, epsilon: 0.01), .zScore(mean: 1.5, std: 2.5),
            .minMax(minimum: -3, maximum: 200),
        ]
        for transform in transforms {
            var values = rates
            values.withUnsafeMutableBufferPointer { transform.forward($0) }
            XCTAssertNotEqual(values.prefix(9).map(\.bitPattern), rates.prefix(9).map(\.bitPattern), "\(transform) changes values")
            values.withUnsafeMutableBufferPointer { transform.inverse($0) }
            for (original, restored) in zip(rates, values) {
                if original.isNaN { XCTAssertTrue(restored.isNaN); continue }
                // dBR maps rates under its threshold to "no rain", which comes back as 0.
                if case .decibel = transform, original < 0.1 { XCTAssertEqual(restored, 0); continue }
                XCTAssertEqual(restored, original, accuracy: max(1e-5, 1e-5 * original), "\(transform)")
            }
        }
    }

    func testScoresAreInTheUnitsOfThePhysicalSteps() {
        let chain = TransformChain([.accumulationToRate(minutes: 10), .clip(threshold: 0.1, below: 0, maximum: nil),
                                    .decibel(threshold: 0.1, zeroValue: -15), .zScore(mean: -10, std: 5)])
        XCTAssertEqual(chain.physicalSteps, 2)
        XCTAssertEqual(chain.physicalUnits(source: "kg m-2"), "mm h-1")
        var values: [Float] = [0.5, 2, .nan]  // mm per 10 minutes
        values.withUnsafeMutableBufferPointer { chain.forward($0) }
        values.withUnsafeMutableBufferPointer { chain.inverseToPhysical($0) }
        XCTAssertEqual(values[0], 3, accuracy: 1e-4, "0.5 mm in 10 minutes is 3 mm/h")
        XCTAssertEqual(values[1], 12, accuracy: 1e-4)
        XCTAssertTrue(values[2].isNaN)
        let normalising = TransformChain([.decibel(threshold: 0.1, zeroValue: -15), .accumulationToRate(minutes: 10)])
        XCTAssertEqual(normalising.physicalSteps, 0, "only leading physical steps count")
        XCTAssertEqual(normalising.physicalUnits(source: "mm h-1"), "mm h-1")
    }

    func testDecibelValuesAndClip() {
        var values: [Float] = [0.05, 0.1, 1, 10, 100]
        values.withUnsafeMutableBufferPointer { Transform.decibel(threshold: 0.1, zeroValue: -15).forward($0) }
        XCTAssertEqual(values, [-15, -10, 0, 10, 20])
        var clipped: [Float] = [0.05, 2, 400, .nan]
        clipped.withUnsafeMutableBufferPointer { Transform.clip(threshold: 0.1, below: 0, maximum: 300).forward($0) }
        XCTAssertEqual(Array(clipped.prefix(3)), [0, 2, 300])
        XCTAssertTrue(clipped[3].isNaN)
    }

    func testAChainSerialisesRestoresAndInvertsInReverse() throws {
        let chain = TransformChain([.accumulationToRate(minutes: 5), .decibel(threshold: 0.1, zeroValue: -15), .zScore(mean: -10, std: 4)])
        let restored = try TransformChain.fromJSON(try chain.json())
        XCTAssertEqual(restored, chain)
        var values: [Float] = [0.5, 1, 8]
        values.withUnsafeMutableBufferPointer { restored.forward($0) }
        XCTAssertEqual(values[0], Float((10 * log10(6.0) + 10) / 4), accuracy: 1e-6)
        values.withUnsafeMutableBufferPointer { restored.inverse($0) }
        XCTAssertEqual(values[0], 0.5, accuracy: 1e-6)
        XCTAssertEqual(values[2], 8, accuracy: 1e-5)
    }

    func testParsingTheCompactFormAndItsErrors() throws {
        XCTAssertEqual(try Transform(parsing: "dbr:0.1:-15"), .decibel(threshold: 0.1, zeroValue: -15))
        XCTAssertEqual(try Transform(parsing: "zscore"), .zScore(mean: nil, std: nil))
        XCTAssertEqual(try Transform(parsing: "clip:0.1:0:300"), .clip(threshold: 0.1, below: 0, maximum: 300))
        assertFails(try Transform(parsing: "sqrt"), mentions: ["sqrt", "known"])
        assertFails(try Transform(parsing: "dbr:0.1"), mentions: ["dbr:0.1", "no-rain value"])
    }

    func testWelfordStatisticsMatchTheTwoPassReferenceAndMerge() {
        var random = SeededGenerator(seed: 5)
        let values = (0..<10_000).map { i -> Float in i % 97 == 0 ? .nan : Float(1000 + random.gaussian() * 3) }
        var whole = RunningStatistics()
        whole.add(values)
        var pieces = RunningStatistics()
        for chunk in stride(from: 0, to: values.count, by: 777) {
            var part = RunningStatistics()
            part.add(values[chunk..<min(values.count, chunk + 777)])
            pieces.merge(part)
        }
        let reference = RunningStatistics.reference(values)
        for s in [whole, pieces] {
            XCTAssertEqual(s.count, reference.count)
            XCTAssertEqual(s.mean, reference.mean, accuracy: 1e-9)
            XCTAssertEqual(s.variance, reference.variance, accuracy: 1e-7)
        }
        XCTAssertEqual(whole.minimum, Double(values.filter { !$0.isNaN }.min() ?? 0))
    }

    func testMissingInputsTakeTheImageOfNoRain() throws {
        XCTAssertEqual(MissingFill(transforms: TransformChain([.decibel(threshold: 0.1, zeroValue: -15)])).value, -15, "the dBR floor")
        let normalised = TransformChain([.decibel(threshold: 0.1, zeroValue: -15), .zScore(mean: 5, std: 2)])
        XCTAssertEqual(MissingFill(transforms: normalised).value, -10)
        XCTAssertEqual(MissingFill(transforms: TransformChain()).value, 0)
        XCTAssertEqual(MissingFill(transforms: TransformChain([.log(epsilon: 0)])).value, 0, "log(0) is not finite: 0 instead")
        XCTAssertEqual(MissingFill(value: 7).filled([1, .nan, 3]), [1, 7, 3])
    }
}
