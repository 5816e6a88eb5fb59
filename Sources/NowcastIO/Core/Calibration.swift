/// Linear calibration of stored radar values, as ODIM_H5, KNMI and many HDF5 layouts define it:
/// `value = stored * gain + offset`; stored `nodata` (and `outside`, where a layout marks pixels
/// outside its coverage apart) becomes NaN (missing) and stored `undetect` becomes `undetectValue`
/// ("measured, nothing detected", a valid value).
public struct Calibration: Equatable, Sendable, Codable {
    /// Multiplier (ODIM `gain`).
    public var gain: Double
    /// Offset (ODIM `offset`).
    public var offset: Double
    /// Stored value meaning "not measured"; decoded to NaN.
    public var nodata: Double?
    /// Stored value meaning "outside the product's coverage" (KNMI's `calibration_out_of_image`); NaN.
    public var outside: Double?
    /// Stored value meaning "measured, nothing detected".
    public var undetect: Double?
    /// Physical value for `undetect` (0 for rates); nil keeps the calibrated stored value.
    public var undetectValue: Float?

    public init(gain: Double = 1, offset: Double = 0, nodata: Double? = nil, outside: Double? = nil, undetect: Double? = nil,
                undetectValue: Float? = nil) {
        self.gain = gain
        self.offset = offset
        self.nodata = nodata
        self.outside = outside
        self.undetect = undetect
        self.undetectValue = undetectValue
    }

    /// True when the calibration changes nothing: values are read as they are stored.
    public var isIdentity: Bool { gain == 1 && offset == 0 && nodata == nil && outside == nil && undetect == nil }

    /// Calibrates stored values (converted by the library to `Float` or `Double`, exactly) into
    /// `output`. Stored NaN and infinities, and values whose calibration is not finite, become NaN
    /// (missing); their number is returned, as no convention of these formats makes them valid.
    @discardableResult
    public func apply<T: BinaryFloatingPoint>(_ stored: UnsafeBufferPointer<T>, into output: UnsafeMutableBufferPointer<Float>) -> Int {
        let nodata = self.nodata ?? .nan, outside = self.outside ?? .nan
        let undetect = self.undetect ?? .nan
        let undetectOutput = undetectValue ?? Float(undetect * gain + offset)
        var nonFinite = 0
        for i in 0..<stored.count {
            let raw = Double(stored[i])
            if raw == nodata || raw == outside {
                output[i] = .nan
            } else if raw == undetect {
                output[i] = undetectOutput
            } else {
                let value = Float(raw * gain + offset)
                if value.isFinite {
                    output[i] = value
                } else {
                    output[i] = .nan
                    nonFinite += 1
                }
            }
        }
        return nonFinite
    }

    /// The calibration in words, e.g. `gain 0.5, offset -32, nodata 255 -> NaN`.
    public var summary: String {
        var parts = ["gain \(formatNumber(gain))", "offset \(formatNumber(offset))"]
        if let nodata { parts.append("nodata \(formatNumber(nodata)) -> NaN") }
        if let outside { parts.append("outside coverage \(formatNumber(outside)) -> NaN") }
        if let undetect { parts.append("undetect \(formatNumber(undetect)) -> \(undetectValue.map { formatNumber(Double($0)) } ?? "calibrated")") }
        return parts.joined(separator: ", ")
    }
}
