/// The numeric element types that NetCDF and HDF5 files store.
public enum ScalarType: String, Codable, Sendable, CaseIterable {
    case int8, uint8, int16, uint16, int32, uint32, int64, uint64, float32, float64

    /// Size of one element in bytes.
    public var byteCount: Int {
        switch self {
        case .int8, .uint8: return 1
        case .int16, .uint16: return 2
        case .int32, .uint32, .float32: return 4
        case .int64, .uint64, .float64: return 8
        }
    }

    /// True when every value of the type converts to `Float` exactly, so reads can go straight to
    /// `Float` and comparisons with fill values stay exact.
    public var isExactInFloat32: Bool {
        switch self {
        case .int8, .uint8, .int16, .uint16, .float32: return true
        default: return false
        }
    }

    /// True for integer types.
    public var isInteger: Bool { self != .float32 && self != .float64 }

    /// The unsigned type of the same width (for the CF `_Unsigned = "true"` convention).
    public var unsignedCounterpart: ScalarType {
        switch self {
        case .int8: return .uint8
        case .int16: return .uint16
        case .int32: return .uint32
        case .int64: return .uint64
        default: return self
        }
    }
}
