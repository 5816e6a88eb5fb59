import Foundation
import NowcastIO
import NowcastTestSupport
import XCTest

/// State trajectories round-trip through NetCDF in 1-D and 2-D, and what cannot be fitted from is
/// refused with the file and the variable.
final class StateTrajectoriesTests: XCTestCase {
    func testOneAndTwoDimensionalTrajectoriesRoundTrip() throws {
        let folder = try temporaryFolder(self)
        for y in [nil, [0.0, 0.5, 1.0]] as [[Double]?] {
            let plane = (y?.count ?? 1) * 4
            let values = (0..<(2 * 3 * plane)).map { Float($0) * 0.25 - 1 }
            let written = try StateTrajectories(states: [("q", values), ("p", values.map { $0 * 2 })], times: [0, 0.1, 0.2], y: y,
                                                x: [0, 1, 2, 3], trajectories: 2, attributes: Attributes([("title", .text("test"))]))
            let path = folder + "/states-\(y == nil ? 1 : 2)d.nc"
            try written.write(to: path)
            let read = try StateTrajectories.read(path, states: ["p", "q"])
            XCTAssertEqual(read.states.map(\.name), ["p", "q"])
            XCTAssertEqual(read.states[1].values, values)
            XCTAssertEqual(read.states[0].values, values.map { $0 * 2 })
            XCTAssertEqual([read.trajectories, read.plane], [2, plane])
            XCTAssertEqual(read.times, [0, 0.1, 0.2])
            XCTAssertEqual(read.y, y)
            XCTAssertEqual(read.attributes["title"], .text("test"))
        }
    }

    func testWhatCannotBeReadIsNamed() throws {
        let folder = try temporaryFolder(self)
        let path = folder + "/states.nc"
        try StateTrajectories(states: [("q", [1, 2, .nan, 4])], times: [0, 1], x: [0, 1], trajectories: 1).write(to: path)
        for (states, words) in [(["r"], ["states.nc", "r"]), (["q"], ["states.nc", "'q'", "nan"])] {
            XCTAssertThrowsError(try StateTrajectories.read(path, states: states)) { error in
                for word in words { XCTAssertTrue("\(error)".contains(word), "\(error) lacks '\(word)'") }
            }
        }
        XCTAssertThrowsError(try StateTrajectories(states: [("q", [1, 2, 3])], times: [0, 1], x: [0, 1], trajectories: 1)) {
            XCTAssertTrue("\($0)".contains("expected 4"), "\($0)")
        }
    }
}
