import Foundation

/// Fields of an evolution equation's states sampled along trajectories, as a NetCDF-4 file: one
/// variable per state over `(trajectory, time, x)` (1-D) or `(trajectory, time, y, x)` (2-D),
/// with the coordinate variables `time` (the equation's time unit), `x` and, in 2-D, `y`. What
/// `nowcast equation burgers-ensemble` writes and `nowcast equation fit` learns from.
public struct StateTrajectories: Sendable {
    /// State name and its values, trajectory-major then time, then the grid row by row.
    public var states: [(name: String, values: [Float])]
    public var times: [Double]
    public var y: [Double]?
    public var x: [Double]
    public var trajectories: Int
    public var attributes: Attributes

    /// Points of one field.
    public var plane: Int { (y?.count ?? 1) * x.count }

    public init(states: [(name: String, values: [Float])], times: [Double], y: [Double]? = nil, x: [Double], trajectories: Int,
                attributes: Attributes = Attributes()) throws {
        let expected = trajectories * times.count * (y?.count ?? 1) * x.count
        guard trajectories > 0, !times.isEmpty, !x.isEmpty, !states.isEmpty else {
            throw NowcastIOError.invalidOption(path: "state trajectories", detail: "expected at least one state, trajectory, time and point")
        }
        for state in states where state.values.count != expected {
            throw NowcastIOError.invalidOption(path: "state trajectories", detail: "state '\(state.name)' has \(state.values.count) values; expected \(expected)")
        }
        (self.states, self.times, self.y, self.x, self.trajectories, self.attributes) = (states, times, y, x, trajectories, attributes)
    }

    /// Writes the file atomically (nothing at `path` until it is whole).
    public func write(to path: String) throws {
        let writer = try NetCDFWriter(path: path)
        do {
            let grid = y == nil ? ["x"] : ["y", "x"]
            try writer.addDimension("trajectory", length: trajectories)
            try writer.addDimension("time", length: times.count)
            if let y { try writer.addDimension("y", length: y.count) }
            try writer.addDimension("x", length: x.count)
            try writer.addVariable("time", type: .float64, dimensions: ["time"], attributes: Attributes([("long_name", .text("time of the equation"))]))
            if y != nil { try writer.addVariable("y", type: .float64, dimensions: ["y"], attributes: Attributes([("long_name", .text("grid coordinate y"))])) }
            try writer.addVariable("x", type: .float64, dimensions: ["x"], attributes: Attributes([("long_name", .text("grid coordinate x"))]))
            let chunks = [1, times.count] + (y.map { [$0.count] } ?? []) + [x.count]
            for state in states {
                try writer.addVariable(state.name, type: .float32, dimensions: ["trajectory", "time"] + grid,
                                       storage: .init(chunks: chunks, deflateLevel: 1), attributes: Attributes([("long_name", .text("state \(state.name)"))]))
            }
            try writer.setGlobalAttributes(attributes)
            try writer.write("time", times)
            if let y { try writer.write("y", y) }
            try writer.write("x", x)
            for state in states { try writer.write(state.name, state.values) }
            try writer.finish()
        } catch {
            writer.cancel()
            throw error
        }
    }

    /// Reads the states `names` from `path`; each must be a variable over `(trajectory, time, x)` or
    /// `(trajectory, time, y, x)` holding only finite values.
    public static func read(_ path: String, states names: [String]) throws -> StateTrajectories {
        let file = try NetCDFFile(path: path)
        let x = try file.variable("x").readAllDoubles()
        let times = try file.variable("time").readAllDoubles()
        let y = try file.root.variables().contains { $0.name == "y" } ? try file.variable("y").readAllDoubles() : nil
        var states: [(name: String, values: [Float])] = []
        var trajectories = 0
        for name in names {
            let variable = try file.variable(name)
            let grid = y.map { [$0.count] } ?? []
            let shape = variable.shape
            guard shape.count == 3 + grid.count, Array(shape.dropFirst()) == [times.count] + grid + [x.count], shape[0] > 0 else {
                throw NowcastIOError.unexpectedShape(path: path, variable: name,
                                                     expected: "dimensions (trajectory, time, \(y == nil ? "" : "y, ")x) of (N, \(times.count), \(grid.map(String.init).joined()) \(x.count))",
                                                     found: "shape \(shape)")
            }
            guard trajectories == 0 || trajectories == shape[0] else {
                throw NowcastIOError.unexpectedShape(path: path, variable: name, expected: "\(trajectories) trajectories as the other states", found: "\(shape[0])")
            }
            trajectories = shape[0]
            var values = [Float](repeating: 0, count: variable.count)
            try values.withUnsafeMutableBufferPointer { try variable.read(into: $0, start: shape.map { _ in 0 }, count: shape) }
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw NowcastIOError.invalidOption(path: path, detail: "state '\(name)' holds \(values[bad]) at element \(bad); expected finite values")
            }
            states.append((name, values))
        }
        return try StateTrajectories(states: states, times: times, y: y, x: x, trajectories: trajectories,
                                     attributes: try file.root.attributes())
    }
}
