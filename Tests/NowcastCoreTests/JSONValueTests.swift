import Foundation
import NowcastCore
import XCTest

final class JSONValueTests: XCTestCase {
    private struct Settings: Codable, Equatable {
        var seed: UInt64
        var offset: Int64
        var rate: Float
        var scale: Double
        var name: String
        var enabled: Bool
        var limit: Int?
        var thresholds: [Double]
        var nested: [String: [Int]]
    }

    func testAnyValueSurvivesTheTripExactly() throws {
        let settings = Settings(seed: .max, offset: .min, rate: 1e-3, scale: .nan, name: "ü/x", enabled: false, limit: nil,
                                thresholds: [0.5, 1, .infinity], nested: ["a": [1, 2], "b": []])
        let value = try JSONValue(encoding: settings)
        guard case let .object(fields) = value else { return XCTFail("\(value)") }
        XCTAssertEqual(fields["seed"], .unsignedInteger(.max), "a 64-bit seed stays exact")
        XCTAssertEqual(fields["offset"], .integer(.min))
        XCTAssertEqual(fields["enabled"], .bool(false), "false is not the number 0")
        XCTAssertEqual(fields["name"], .string("ü/x"))
        XCTAssertEqual(fields["scale"], .string("nan"), "non-finite numbers as JSONCoding writes them")
        XCTAssertEqual(fields["thresholds"], .array([.number(0.5), .integer(1), .string("inf")]))
        let back = try value.decode(Settings.self)
        XCTAssertEqual(back.seed, settings.seed)
        XCTAssertEqual(back.rate, settings.rate)
        XCTAssertTrue(back.scale.isNaN)
        XCTAssertEqual(back.thresholds, settings.thresholds)
        XCTAssertEqual(back.nested, settings.nested)
        XCTAssertNil(back.limit)
        // And through text: what a manifest holds reads back as the same value.
        XCTAssertEqual(try JSONCoding.decoder().decode(JSONValue.self, from: JSONCoding.encode(value)), value)
    }

    func testDecodingAsTheWrongTypeIsAnError() throws {
        let value = try JSONValue(encoding: ["seed": "twelve"])
        XCTAssertThrowsError(try value.decode([String: UInt64].self))
    }
}
