import Foundation

/// What to read from a file. Every field is optional: the readers choose sensible defaults. As a
/// config (`nowcast convert`'s YAML) its keys are flat and snake_case, as the command-line flags:
/// `variable`, `quantity`, `undetect_value`, `dataset`, `gain`, `offset`, `nodata`, `undetect`,
/// `units`, `time_attribute`, `time_format`, `time_from_filename`.
public struct FieldReadOptions: Equatable, Sendable, Codable {
    /// NetCDF variable (name or `group/name`) to read; by default the one field variable there is.
    public var variable: String?
    /// ODIM quantity to read (`RATE`, `DBZH`, `ACRR`, `QIND`, ...); by default RATE, ACRR, DBZH or the first.
    public var quantity: String?
    /// Value given to ODIM `undetect` pixels; by default 0 for rates and accumulations.
    public var undetectValue: Float?
    /// An HDF5 dataset path (e.g. `/precip/data`): reads the file as a generic HDF5 field.
    public var hdf5Dataset: String?
    /// Calibration of a generic HDF5 dataset.
    public var calibration: Calibration
    /// Where the valid time comes from, for files whose own time the readers do not find (or to
    /// override it): an attribute, e.g. `/what@time` (HDF5), `@time_coverage_end` (a NetCDF global).
    public var timeAttribute: AttributeReference?
    /// Layout of a string time attribute (default: ISO 8601, or `%Y%m%d%H%M%S` digits).
    public var timeFormat: TimePattern?
    /// Reads the valid time from the file name with this pattern, when the file has none (or for HDF5).
    public var timeFromFileName: TimePattern?
    /// Units of a generic HDF5 field (default `1`).
    public var units: String?

    public init(variable: String? = nil, quantity: String? = nil, undetectValue: Float? = nil,
                hdf5Dataset: String? = nil, calibration: Calibration = Calibration(), timeAttribute: AttributeReference? = nil,
                timeFormat: TimePattern? = nil, timeFromFileName: TimePattern? = nil, units: String? = nil) {
        self.variable = variable
        self.quantity = quantity
        self.undetectValue = undetectValue
        self.hdf5Dataset = hdf5Dataset
        self.calibration = calibration
        self.timeAttribute = timeAttribute
        self.timeFormat = timeFormat
        self.timeFromFileName = timeFromFileName
        self.units = units
    }

    /// The config keys, flat.
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case variable, quantity, gain, offset, nodata, undetect, units
        case undetectValue = "undetect_value", hdf5Dataset = "dataset", timeAttribute = "time_attribute", timeFormat = "time_format"
        case timeFromFileName = "time_from_filename"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        variable = try c.decodeIfPresent(String.self, forKey: .variable)
        quantity = try c.decodeIfPresent(String.self, forKey: .quantity)
        undetectValue = try c.decodeIfPresent(Float.self, forKey: .undetectValue)
        hdf5Dataset = try c.decodeIfPresent(String.self, forKey: .hdf5Dataset)
        calibration = Calibration(gain: try c.decodeIfPresent(Double.self, forKey: .gain) ?? 1,
                                  offset: try c.decodeIfPresent(Double.self, forKey: .offset) ?? 0,
                                  nodata: try c.decodeIfPresent(Double.self, forKey: .nodata),
                                  undetect: try c.decodeIfPresent(Double.self, forKey: .undetect), undetectValue: undetectValue)
        timeAttribute = try c.decodeIfPresent(AttributeReference.self, forKey: .timeAttribute)
        timeFormat = try c.decodeIfPresent(TimePattern.self, forKey: .timeFormat)
        timeFromFileName = try c.decodeIfPresent(TimePattern.self, forKey: .timeFromFileName)
        units = try c.decodeIfPresent(String.self, forKey: .units)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(variable, forKey: .variable)
        try c.encodeIfPresent(quantity, forKey: .quantity)
        try c.encodeIfPresent(undetectValue, forKey: .undetectValue)
        try c.encodeIfPresent(hdf5Dataset, forKey: .hdf5Dataset)
        if calibration.gain != 1 { try c.encode(calibration.gain, forKey: .gain) }
        if calibration.offset != 0 { try c.encode(calibration.offset, forKey: .offset) }
        try c.encodeIfPresent(calibration.nodata, forKey: .nodata)
        try c.encodeIfPresent(calibration.undetect, forKey: .undetect)
        try c.encodeIfPresent(timeAttribute, forKey: .timeAttribute)
        try c.encodeIfPresent(timeFormat, forKey: .timeFormat)
        try c.encodeIfPresent(timeFromFileName, forKey: .timeFromFileName)
        try c.encodeIfPresent(units, forKey: .units)
    }
}
