/// Linear calibration of stored radar values, as ODIM_H5 and many HDF5 layouts define it:
/// `value = stored * gain + offset`; stored `nodata` becomes NaN (missing) and stored `undetect`
/// becomes `undetectValue` ("measured, nothing detected", a valid value).
public struct Calibration: Equatable, Sendable, Codable {
    /// Multiplier (ODIM `gain`).
    public var gain: Double
    /// Offset (ODIM `offset`).
    public var offset: Double
    /// Stored value meaning "not measured"; decoded to NaN.
    public var nodata: Double?
    /// Stored value meaning "measured, nothing detected".
    public var undetect: Double?
    /// Physical value for `undetect` (0 for rates); nil keeps the calibrated stored value.
    public var undetectValue: Float?

    public init(gain: Double = 1, offset: Double = 0, nodata: Double? = nil, undetect: Double? = nil,
                undetectValue: Float? = nil) {
        self.gain = gain
        self.offset = offset
        self.nodata = nodata
        self.undetect = undetect
        self.undetectValue = undetectValue
    }

    /// Calibrates stored values (converted by the library to `Float` or `Double`, exactly) into `output`.
    /// Stored NaN stays NaN.
    public func apply<T: BinaryFloatingPoint>(_ stored: UnsafeBufferPointer<T>, into output: UnsafeMutableBufferPointer<Float>) {
        let nodata = self.nodata ?? .nan
        let undetect = self.undetect ?? .nan
        let undetectOutput = undetectValue ?? Float(undetect * gain + offset)
        for i in 0..<stored.count {
            let raw = Double(stored[i])
            if raw == nodata || raw.isNaN {
                output[i] = .nan
            } else if raw == undetect {
                output[i] = undetectOutput
            } else {
                output[i] = Float(raw * gain + offset)
            }
        }
    }
}
