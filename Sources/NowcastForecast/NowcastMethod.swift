/// One way of making a forecast's ensemble members from the latest observations: persistence,
/// extrapolation along the estimated motion, or a trained model. Each holds its inputs; fields come
/// out in physical units, one lead time at a time.
public protocol NowcastMethod {
    /// What the product's `source` attribute and the terminal call it, e.g. `extrapolation (dense Lucas-Kanade)`.
    var name: String { get }
    /// The most members it can make, nil when any number (each from its own seed).
    var memberLimit: Int? { get }
    /// Member `member`'s forecast, `leads` fields handed to `lead` in order (lead index from 0).
    func forecast(member: Int, leads: Int, lead: (_ index: Int, _ field: [Float]) throws -> Void) throws
}

/// The last observation held for every lead time: one member.
public struct PersistenceNowcast: NowcastMethod {
    public let last: [Float]
    public var name: String { "persistence" }
    public var memberLimit: Int? { 1 }

    public init(last: [Float]) { self.last = last }

    public func forecast(member: Int, leads: Int, lead: (Int, [Float]) throws -> Void) throws {
        for index in 0..<leads { try lead(index, last) }
    }
}

/// A trained model folder's members (deep ensemble), each run on the whole grid.
public struct ModelNowcast: NowcastMethod {
    public let forecaster: EnsembleForecaster
    public let frames: [[Float]]
    public let ny: Int, nx: Int
    public let folder: String

    public init(forecaster: EnsembleForecaster, folder: String, frames: [[Float]], ny: Int, nx: Int) {
        (self.forecaster, self.folder, self.frames, self.ny, self.nx) = (forecaster, folder, frames, ny, nx)
    }

    public var name: String { "\(forecaster.artifact.model.type.rawValue) model \(folder)" }
    public var memberLimit: Int? { forecaster.members.count }

    public func forecast(member: Int, leads: Int, lead: (Int, [Float]) throws -> Void) throws {
        for (index, field) in try forecaster.forecast(member: member, frames: frames, ny: ny, nx: nx, leads: leads).enumerated() {
            try lead(index, field)
        }
    }
}
