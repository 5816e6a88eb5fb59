import ArgumentParser
import NowcastIO

/// Options that say which field to read from a file and how; shared by every command that reads
/// fields. Each is also a key of a convert config (`fixtures/convert.yaml`), which a flag overrides.
struct FieldOptions: ParsableArguments {
    @Option(help: "NetCDF variable to read (name or group/name); default: the one field variable. Key: variable.")
    var variable: String?

    @Option(help: "ODIM quantity to read (RATE, DBZH, ACRR, QIND, ...); default: RATE, ACRR or DBZH. Key: quantity.")
    var quantity: String?

    @Option(help: "Value for ODIM 'undetect' pixels; default 0 for rates, -32 for reflectivity. Key: undetect_value.")
    var undetectValue: Float?

    @Option(help: "Generic HDF5: path of the dataset to read, e.g. /precip/data. Key: dataset.")
    var dataset: String?

    @Option(help: "Generic HDF5: calibration gain (value = stored * gain + offset). Key: gain.")
    var gain: Double?

    @Option(help: "Generic HDF5: calibration offset. Key: offset.")
    var offset: Double?

    @Option(help: "Generic HDF5: stored value meaning missing (becomes NaN). Key: nodata.")
    var nodata: Double?

    @Option(help: "Generic HDF5: stored value meaning 'nothing detected'. Key: undetect.")
    var undetect: Double?

    @Option(help: "Valid time from an attribute, OBJECT@NAME (/what@time; @time_coverage_end for a NetCDF global). Key: time_attribute.")
    var timeAttribute: String?

    @Option(help: "Layout of a string time attribute, strftime style (e.g. %Y%m%d%H%M, %d-%b-%Y;%H:%M:%S). Key: time_format.")
    var timeFormat: String?

    @Option(help: "Valid time from the file name, strftime style (e.g. %Y%m%d_%H%M%S). Key: time_from_filename.")
    var timeFromFilename: String?

    @Option(help: "Generic HDF5: units of the calibrated values. Key: units.")
    var units: String?

    /// The flags given, applied over `options` (a config's, or the defaults).
    func apply(to options: inout FieldReadOptions) throws {
        if let variable { options.variable = variable }
        if let quantity { options.quantity = quantity }
        if let undetectValue {
            options.undetectValue = undetectValue
            options.calibration.undetectValue = undetectValue
        }
        if let dataset { options.hdf5Dataset = dataset }
        if let gain { options.calibration.gain = gain }
        if let offset { options.calibration.offset = offset }
        if let nodata { options.calibration.nodata = nodata }
        if let undetect { options.calibration.undetect = undetect }
        if let timeAttribute { options.timeAttribute = try flag("--time-attribute") { try AttributeReference(timeAttribute) } }
        if let timeFormat { options.timeFormat = try flag("--time-format") { try TimePattern(timeFormat) } }
        if let timeFromFilename { options.timeFromFileName = try flag("--time-from-filename") { try TimePattern(timeFromFilename) } }
        if let units { options.units = units }
    }

    /// The read options the flags alone give.
    func readOptions() throws -> FieldReadOptions {
        var options = FieldReadOptions()
        try apply(to: &options)
        return options
    }

    private func flag<T>(_ name: String, _ parse: () throws -> T) throws -> T {
        do { return try parse() } catch { throw ValidationError("\(name): \(error)") }
    }
}
