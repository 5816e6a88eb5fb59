import NowcastCore
import NowcastPhysics

/// A trained model folder's members, each run on the whole grid. With `.deep`, member k is the
/// run's k-th trained member. With `.dropout` (MC dropout), member k is trained member k modulo
/// their number with dropout at the trained rate, masks drawn from `(seed, k)`. With `.noise`,
/// member k is trained member k modulo their number run on inputs perturbed by a noise field with
/// the latest observation's power spectrum (`NoiseFilter.nonparametric`, drawn from `(seed, k)`), scaled
/// to `noiseScale` times the standard deviation of the latest frame's wet values in model units and
/// added where the inputs are wet.
public struct ModelNowcast: NowcastMethod {
    /// How the members are made.
    public enum Ensemble: String, Codable, Sendable, CaseIterable { case deep, dropout, noise }

    public let forecaster: EnsembleForecaster
    public let frames: [[Float]]
    public let ny: Int, nx: Int
    public let folder: String
    public let ensemble: Ensemble
    private let noise: (filter: NoiseFilter, amplitude: Float)?
    private let seed: UInt64

    public init(forecaster: EnsembleForecaster, folder: String, frames: [[Float]], ny: Int, nx: Int,
                ensemble: Ensemble = .deep, noiseScale: Float = 0.2, seed: UInt64 = 0) throws {
        (self.forecaster, self.folder, self.frames, self.ny, self.nx) = (forecaster, folder, frames, ny, nx)
        (self.ensemble, self.seed) = (ensemble, seed)
        if ensemble == .dropout, forecaster.artifact.model.dropout <= 0 {
            throw ForecastError.setting(key: "ensemble", expected: "a run trained with dropout (model.dropout above 0) for MC-dropout members",
                                        found: "dropout with \(folder), trained without")
        }
        guard ensemble == .noise else {
            noise = nil
            return
        }
        let data = forecaster.artifact.data
        var latest = frames.last ?? []
        latest.withUnsafeMutableBufferPointer { data.transforms.forward($0) }
        let wet = latest.filter { !$0.isNaN && $0 > data.missingInput }
        let mean = wet.reduce(0.0) { $0 + Double($1) } / Double(max(1, wet.count))
        let std = (wet.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(max(1, wet.count))).squareRoot()
        let filled = latest.map { $0.isNaN ? data.missingInput : $0 }
        guard wet.count > 1, std > 0, let filter = NoiseFilter.nonparametric(fields: [filled], ny: ny, nx: nx) else {
            throw ForecastError.input(expected: "a latest observation with rain of some variation to shape the noise ensemble",
                                      found: "\(wet.count) wet values")
        }
        noise = (filter, noiseScale * Float(std))
    }

    public var name: String {
        "\(forecaster.artifact.model.type.rawValue) model \(folder)" + (ensemble == .noise ? " with input noise" : ensemble == .dropout ? " with MC dropout" : "")
    }

    public var memberLimit: Int? { ensemble == .deep ? forecaster.members.count : nil }

    public func forecast(member: Int, leads: Int, lead: (Int, [Float]) throws -> Void) throws {
        var perturbation: [Float]?
        if let noise {
            guard let fft = RealFFT2D(ny: ny, nx: nx) else {
                throw ForecastError.input(expected: "a grid FFTW can transform", found: "\(ny) x \(nx)")
            }
            var random = SeededGenerator(seed: seed, stream: UInt64(member))
            perturbation = noise.filter.next(using: &random, fft: fft).map { $0 * noise.amplitude }
        }
        let draws = ensemble == .dropout ? SeededGenerator(seed: seed, stream: UInt64(member)) : nil
        let fields = try forecaster.forecast(member: member % forecaster.members.count, frames: frames, ny: ny, nx: nx, leads: leads,
                                             perturbation: perturbation, dropoutDraws: draws)
        for (index, field) in fields.enumerated() { try lead(index, field) }
    }
}
