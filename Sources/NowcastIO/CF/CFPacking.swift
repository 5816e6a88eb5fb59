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

    /// The decoding in words, e.g. `stored short; scale 0.01, offset 0; missing -1 -> NaN`.
    public func summary(typeName: String) -> String {
        var parts = ["stored \(typeName)\(unsigned ? " (_Unsigned)" : "")"]
        if scale != 1 || offset != 0 { parts.append("scale \(formatNumber(scale)), offset \(formatNumber(offset))") }
        if !missingValues.isEmpty { parts.append("missing " + missingValues.map(formatNumber).joined(separator: ", ") + " -> NaN") }
        if validMin > -.infinity || validMax < .infinity { parts.append("valid \(formatNumber(validMin))..\(formatNumber(validMax))") }
        return parts.joined(separator: "; ")
    }

    /// True when stored values can be read straight into `Float` and decoded there exactly.
    public var decodesInFloat: Bool { storedType.isExactInFloat32 }

    /// True when NaN is declared missing (`_FillValue = NaN`): stored NaN is then not an anomaly.
    private var nanIsMissing: Bool { missingValues.contains { $0.isNaN } }

    /// Decodes stored values (already converted to `Float` by the library, exact for this type) in
    /// place; returns how many were NaN or infinite where the variable's conventions make them
    /// valid (or decoded to an infinity): those become missing too.
    @discardableResult
    public func decode(inPlace values: UnsafeMutableBufferPointer<Float>) -> Int {
        if storedType == .float32, scale == 1, offset == 0 {
            return decodeFloatMasksOnly(values)
        }
        return decode(UnsafeBufferPointer(values), into: values)
    }

    /// Decodes stored values (converted to `Double` by the library) into `output`; returns the
    /// number of non-finite values made missing, as `decode(inPlace:)` does.
    @discardableResult
    public func decode<T: BinaryFloatingPoint>(_ stored: UnsafeBufferPointer<T>, into output: UnsafeMutableBufferPointer<Float>) -> Int {
        let bits = Double(1 << min(62, storedType.byteCount * 8))
        let missing = missingValues, nanMissing = nanIsMissing
        var nonFinite = 0
        for i in 0..<stored.count {
            var raw = Double(stored[i])
            if unsigned, raw < 0 { raw += bits }
            if raw.isNaN {
                output[i] = .nan
                if !nanMissing { nonFinite += 1 }
            } else if raw < validMin || raw > validMax || missing.contains(raw) {
                output[i] = .nan
            } else {
                let value = Float(raw * scale + offset)
                if !value.isFinite { nonFinite += 1 }
                output[i] = value.isFinite ? value : .nan
            }
        }
        return nonFinite
    }

    /// The fast path for unpacked float32 data: only masking, in `Float`.
    private func decodeFloatMasksOnly(_ values: UnsafeMutableBufferPointer<Float>) -> Int {
        let low = Float(validMin), high = Float(validMax)
        let masks = missingValues.map { Float($0) }
        let nanMissing = nanIsMissing
        var nonFinite = 0
        // Reached only by NaN and infinities that no mask caught (rare: off the hot path).
        func anomaly(_ i: Int) {
            if !(values[i].isNaN && nanMissing) { nonFinite += 1 }
            values[i] = .nan
        }
        if masks.count == 1 {
            let fill = masks[0]
            for i in 0..<values.count {
                let v = values[i]
                if v == fill || v < low || v > high { values[i] = .nan } else if !v.isFinite { anomaly(i) }
            }
        } else {
            for i in 0..<values.count {
                let v = values[i]
                if v < low || v > high || masks.contains(v) { values[i] = .nan } else if !v.isFinite { anomaly(i) }
            }
        }
        return nonFinite
    }
}
