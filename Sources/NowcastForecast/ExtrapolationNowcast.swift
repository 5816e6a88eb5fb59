import NowcastCore
import NowcastData
import NowcastPhysics

/// Extrapolation along the observed motion (pySTEPS's deterministic nowcast and its motion
/// ensemble): the fields are transformed into the working space (dBR by default), the motion is
/// estimated there from the last frames (`MotionMethod`, missing pixels read as no rain), and
/// the latest field is advected backward semi-Lagrangian, lead by lead. With more than one member
/// every member's motion is perturbed (`MotionPerturbation`, drawn from `(seed, member)`); with one,
/// the estimated motion is used as it is. Pixels whose rain would come from outside the grid are
/// missing, or no rain with `outside = .noRain`.
public struct ExtrapolationNowcast: NowcastMethod {
    /// What lies outside the grid.
    public enum Outside: String, Codable, Sendable, CaseIterable { case missing, noRain = "zero" }

    public let motion: MotionField
    public let ny: Int, nx: Int
    private let latest: [Float]
    private let transforms: TransformChain
    private let outsideValue: Float
    private let perturbed: Bool
    private let motionMethod: MotionMethod
    private let seed: UInt64
    private let kilometresPerPixel: Double
    private let stepMinutes: Double

    /// Prepares the extrapolation of `frames` (oldest first, physical units, `ny * nx` each; all
    /// of them go into the motion) under `transforms` (none needing fitting).
    public init(frames: [[Float]], ny: Int, nx: Int, transforms: TransformChain, motionMethod: MotionMethod = .lucasKanade,
                outside: Outside, members: Int, seed: UInt64, kilometresPerPixel: Double, stepSeconds: Double) throws {
        guard !transforms.needsFitting else {
            throw ForecastError.setting(key: "transforms", expected: "transforms with their parameters given (zscore and minmax need a fitted run)",
                                        found: transforms.summary)
        }
        let working = frames.map { frame -> [Float] in
            var values = frame
            values.withUnsafeMutableBufferPointer { transforms.forward($0) }
            return values
        }
        let noRain = MissingFill(transforms: transforms).value
        motion = try motionMethod.motion(working, ny: ny, nx: nx, missing: noRain)
        self.motionMethod = motionMethod
        (self.ny, self.nx, self.transforms) = (ny, nx, transforms)
        latest = working.last ?? []
        outsideValue = outside == .missing ? .nan : noRain
        perturbed = members > 1
        (self.seed, self.kilometresPerPixel, self.stepMinutes) = (seed, kilometresPerPixel, stepSeconds / 60)
    }

    public var name: String { "extrapolation (\(motionMethod.label) motion, semi-Lagrangian advection\(perturbed ? ", motion perturbations" : ""))" }
    public var memberLimit: Int? { nil }
    public var computesMembersConcurrently: Bool { true }

    public func forecast(member: Int, leads: Int, lead: (Int, [Float]) throws -> Void) throws {
        var random = SeededGenerator(seed: seed, stream: UInt64(member))
        let perturbation = perturbed ? MotionPerturbation(using: &random) : nil
        var advector = SemiLagrangian(ny: ny, nx: nx)
        for index in 0..<leads {
            let minutes = Double(index + 1) * stepMinutes
            try advector.step(by: perturbation?.perturbed(motion, minutes: minutes, kilometresPerPixel: kilometresPerPixel, stepMinutes: stepMinutes) ?? motion)
            var field = try advector.advect(latest, outside: outsideValue)
            field.withUnsafeMutableBufferPointer { transforms.inverseToPhysical($0) }
            try lead(index, field)
        }
    }
}
