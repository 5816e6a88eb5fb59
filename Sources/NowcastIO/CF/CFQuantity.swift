import Foundation

/// A forecast quantity as CF names it.
public struct CFQuantity: Equatable, Sendable {
    public var variable: String
    public var standardName: String?
    public var longName: String
    public var units: String

    public init(variable: String, standardName: String?, longName: String, units: String) {
        (self.variable, self.standardName, self.longName, self.units) = (variable, standardName, longName, units)
    }

    /// The CF quantity for fields in `units` of the source quantity `quantity` (ODIM RATE, ACRR,
    /// DBZH, or a NetCDF variable's standard name): a radar rain rate is `lwe_precipitation_rate`
    /// (liquid water equivalent: radars see snow too), `rainfall_rate` only when the source says so.
    public static func forField(units: String, quantity: String) -> CFQuantity {
        let u = units.lowercased().replacingOccurrences(of: " ", with: "")
        let q = quantity.lowercased()
        if q == "rainfall_rate" { return CFQuantity(variable: "rainfall_rate", standardName: "rainfall_rate", longName: "rainfall rate", units: "mm h-1") }
        if ["mm/h", "mmh-1", "mm/hr", "mmhr-1", "mmperhour"].contains(u) {
            return CFQuantity(variable: "lwe_precipitation_rate", standardName: "lwe_precipitation_rate", longName: "precipitation rate", units: "mm h-1")
        }
        if ["mm", "kgm-2", "kg/m2", "kgm**-2"].contains(u) {
            return CFQuantity(variable: "lwe_thickness_of_precipitation_amount", standardName: "lwe_thickness_of_precipitation_amount",
                              longName: "precipitation amount", units: "mm")
        }
        if u == "dbz" || q.hasPrefix("dbz") {
            return CFQuantity(variable: "equivalent_reflectivity_factor", standardName: "equivalent_reflectivity_factor",
                              longName: "equivalent reflectivity factor", units: "dBZ")
        }
        return CFQuantity(variable: "precipitation", standardName: nil, longName: "forecast \(quantity)", units: units)
    }
}
