import CNetCDF

/// CF decoding of a stored variable to physical `Float32` values with NaN for missing:
/// `_Unsigned`, `_FillValue`, `missing_value`, `valid_min`/`valid_max`/`valid_range` (compared on the
/// stored values, as the CF conventions define them), then `scale_factor` and `add_offset`.
public struct CFPacking: Equatable, Sendable {
    /// The stored element type.
    public var storedType: ScalarType
    /// Multiplier applied to stored values (1 when absent).
    public var scale: Double
    /// Offset added after scaling (0 when absent).
    public var offset: Double
    /// Stored values that mean "missing": `_FillValue` and every `missing_value`.
    public var missingValues: [Double]
    /// Smallest valid stored value.
    public var validMin: Double
    /// Largest valid stored value.
    public var validMax: Double
    /// Stored signed integers are to be read as unsigned (`_Unsigned = "true"`).
    public var unsigned: Bool

    /// The netCDF default fill value of floats, masked when a float variable has no `_FillValue`.
    static let defaultFloatFill = Double(NC_FILL_FLOAT)

    /// Reads the packing attributes of a variable; an attribute of the wrong kind is an error naming it.
    public init(attributes: Attributes, storedType: ScalarType, path: String, variable: String) throws {
        func number(_ name: String) throws -> [Double]? {
            guard let value = attributes[name] else { return nil }
            guard let numbers = value.doubles, !numbers.isEmpty else {
                throw NowcastIOError.badAttribute(path: path, object: variable, attribute: name, expected: "a number")
            }
            return numbers
        }
        self.storedType = storedType
        unsigned = storedType.isInteger && attributes["_Unsigned"]?.stringValue?.lowercased() == "true"
        let bits = Double(1 << min(62, storedType.byteCount * 8))
        let widen: (Double) -> Double = { [unsigned] v in unsigned && v < 0 ? v + bits : v }
        scale = try number("scale_factor")?.first ?? 1
        offset = try number("add_offset")?.first ?? 0
        var missing = try (number("_FillValue") ?? []).map(widen)
        if attributes["_FillValue"] == nil, !storedType.isInteger { missing.append(Self.defaultFloatFill) }
        missing += try (number("missing_value") ?? []).map(widen)
        missingValues = missing
        validMin = -.infinity
        validMax = .infinity
        if let range = try number("valid_range") {
            guard range.count == 2 else {
                throw NowcastIOError.badAttribute(path: path, object: variable, attribute: "valid_range", expected: "two numbers")
            }
            validMin = widen(range[0])
            validMax = widen(range[1])
        }
        if let low = try number("valid_min")?.first { validMin = widen(low) }
        if let high = try number("valid_max")?.first { validMax = widen(high) }
    }

    /// True when stored values can be read straight into `Float` and decoded there exactly.
    public var decodesInFloat: Bool { storedType.isExactInFloat32 }

    /// Decodes stored values (already converted to `Float` by the library, exact for this type) in place.
    public func decode(inPlace values: UnsafeMutableBufferPointer<Float>) {
        if storedType == .float32, scale == 1, offset == 0 {
            decodeFloatMasksOnly(values)
            return
        }
        decode(UnsafeBufferPointer(values), into: values)
    }

    /// Decodes stored values (converted to `Double` by the library) into `output`.
    public func decode<T: BinaryFloatingPoint>(_ stored: UnsafeBufferPointer<T>, into output: UnsafeMutableBufferPointer<Float>) {
        let bits = Double(1 << min(62, storedType.byteCount * 8))
        let missing = missingValues
        for i in 0..<stored.count {
            var raw = Double(stored[i])
            if unsigned, raw < 0 { raw += bits }
            if raw.isNaN || raw < validMin || raw > validMax || missing.contains(raw) {
                output[i] = .nan
            } else {
                output[i] = Float(raw * scale + offset)
            }
        }
    }

    /// The fast path for unpacked float32 data: only masking, in `Float`.
    private func decodeFloatMasksOnly(_ values: UnsafeMutableBufferPointer<Float>) {
        let low = Float(validMin), high = Float(validMax)
        let masks = missingValues.map { Float($0) }
        if masks.count == 1 {
            let fill = masks[0]
            for i in 0..<values.count {
                let v = values[i]
                if v == fill || v < low || v > high { values[i] = .nan }
            }
        } else {
            for i in 0..<values.count {
                let v = values[i]
                if v < low || v > high || masks.contains(v) { values[i] = .nan }
            }
        }
    }
}
