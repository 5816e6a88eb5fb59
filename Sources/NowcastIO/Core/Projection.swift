import CProj
import Foundation

/// A map projection from a PROJ definition (`+proj=laea +lat_0=55 ...`), converting geographic
/// longitude/latitude in degrees to projected coordinates and back, as pyproj's `Proj` does (no datum
/// shift). Used to place ODIM grids, whose corners are given in longitude/latitude.
public final class Projection {
    /// The definition it was created from.
    public let definition: String
    private let context: OpaquePointer
    private let transform: OpaquePointer

    /// Creates the projection; throws `NowcastIOError.badProjection` with PROJ's reason when PROJ rejects the definition.
    public init(_ definition: String) throws {
        guard let context = proj_context_create() else { throw NowcastIOError.badProjection(definition: definition, reason: "no PROJ context") }
        proj_log_level(context, PJ_LOG_NONE)
        // "+type=crs" would make PROJ build a CRS, which cannot be applied directly; the bare
        // conversion is what ODIM's projdef means.
        let cleaned = definition.replacingOccurrences(of: "+type=crs", with: "")
        guard let transform = proj_create(context, cleaned) else {
            let reason = String(cString: proj_context_errno_string(context, proj_context_errno(context)))
            proj_context_destroy(context)
            throw NowcastIOError.badProjection(definition: definition, reason: reason)
        }
        self.definition = definition
        self.context = context
        self.transform = transform
    }

    deinit {
        proj_destroy(transform)
        proj_context_destroy(context)
    }

    /// Projected (x, y), in the definition's units, of a longitude/latitude in degrees.
    public func forward(longitude: Double, latitude: Double) throws -> (x: Double, y: Double) {
        let angular = proj_angular_input(transform, PJ_FWD) != 0
        let input = proj_coord(angular ? proj_torad(longitude) : longitude, angular ? proj_torad(latitude) : latitude, 0, 0)
        let output = proj_trans(transform, PJ_FWD, input)
        guard output.xy.x.isFinite, output.xy.y.isFinite else {
            throw NowcastIOError.badProjection(definition: definition, reason: "cannot project lon \(longitude), lat \(latitude)")
        }
        return (output.xy.x, output.xy.y)
    }

    /// Longitude/latitude in degrees of projected (x, y).
    public func inverse(x: Double, y: Double) throws -> (longitude: Double, latitude: Double) {
        let output = proj_trans(transform, PJ_INV, proj_coord(x, y, 0, 0))
        let angular = proj_angular_output(transform, PJ_INV) != 0
        guard output.lp.lam.isFinite, output.lp.phi.isFinite else {
            throw NowcastIOError.badProjection(definition: definition, reason: "cannot invert x \(x), y \(y)")
        }
        return angular ? (proj_todeg(output.lp.lam), proj_todeg(output.lp.phi)) : (output.lp.lam, output.lp.phi)
    }
}
