import Foundation
import NowcastIO
import NowcastPlot

/// A quicklook map of one field of a file: an observation (any file the readers take), or from a
/// forecast product a member, the ensemble mean or the probability of exceeding a threshold, at a
/// lead time; on a rain-rate (or probability) colour scale, coordinates in km where the grid is in
/// metres, the valid time in the title.
public enum Quicklook {
    public enum Kind: String, Sendable, CaseIterable { case observation, member, mean, probability }

    /// The map of `kind` from `path`: `frame` is the observation's index in its file, `lead` the
    /// forecast's lead (1-based), `threshold` the probability's event threshold.
    public static func map(path: String, kind: Kind, frame: Int = 0, member: Int = 0, lead: Int = 1, threshold: Double = 1,
                           options: FieldReadOptions = FieldReadOptions()) throws -> FieldMap {
        let name = (path as NSString).lastPathComponent
        switch kind {
        case .observation:
            let file = try openFieldFile(path, options: options)
            guard (0..<file.frameCount).contains(frame) else {
                throw VerificationError.setting(key: "frame", expected: "0 to \(file.frameCount - 1) (\(path))", found: "\(frame)")
            }
            let f = try file.readFrame(frame)
            return fieldMap(title: "\(name): \(f.quantity), valid \(UTCTime.iso8601(f.validTime))", values: f.values, grid: f.grid,
                            scale: .rainRate(units: f.units))
        case .member, .mean, .probability:
            let file = try CFForecastFile(path: path, variable: options.variable)
            guard (1...file.leadTimes).contains(lead) else {
                throw VerificationError.setting(key: "lead", expected: "1 to \(file.leadTimes) (\(path))", found: "\(lead)")
            }
            let valid = UTCTime.iso8601(file.validTimes[lead - 1])
            let minutes = Int((file.leadSeconds[lead - 1] / 60).rounded())
            let when = "+\(minutes) min, valid \(valid)"
            switch kind {
            case .member:
                guard (0..<file.members).contains(member) else {
                    throw VerificationError.setting(key: "member", expected: "0 to \(file.members - 1) (\(path))", found: "\(member)")
                }
                var values = [Float](repeating: .nan, count: file.grid.ny * file.grid.nx)
                try values.withUnsafeMutableBufferPointer { try file.read(member: member, lead: lead - 1, into: $0) }
                return fieldMap(title: "\(name): member \(file.realizations[member]), \(when)", values: values, grid: file.grid,
                                scale: .rainRate(units: file.units))
            case .mean:
                let fields = try file.ensemble(lead: lead - 1)
                let values = (0..<(file.grid.ny * file.grid.nx)).map { i in fields.reduce(Float(0)) { $0 + $1[i] } / Float(fields.count) }
                return fieldMap(title: "\(name): mean of \(file.members) members, \(when)", values: values, grid: file.grid,
                                scale: .rainRate(units: file.units))
            default:
                let fields = try file.ensemble(lead: lead - 1)
                let limit = Float(threshold)
                let values = (0..<(file.grid.ny * file.grid.nx)).map { i -> Float in
                    let valid = fields.filter { !$0[i].isNaN }
                    return valid.isEmpty ? .nan : Float(valid.filter { $0[i] > limit }.count) / Float(valid.count)
                }
                return fieldMap(title: "\(name): P(> \(threshold) \(file.units)), \(file.members) members, \(when)", values: values, grid: file.grid,
                                scale: .probability)
            }
        }
    }

    /// Coordinates in km when the grid is in metres; as stored otherwise.
    private static func fieldMap(title: String, values: [Float], grid: Grid, scale: ColourScale) -> FieldMap {
        let (factor, units): (Double, String) = grid.xyUnits == "m" ? (1e-3, "km") : (1, grid.isGeoreferenced ? grid.xyUnits : "pixels")
        return FieldMap(title: title, values: values, ny: grid.ny, nx: grid.nx, x: grid.x.map { $0 * factor }, y: grid.y.map { $0 * factor },
                        axisUnits: units, scale: scale)
    }
}
