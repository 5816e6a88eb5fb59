import ArgumentParser
import NowcastIO

/// Options that say which field to read from a file; shared by every command that reads fields.
struct FieldOptions: ParsableArguments {
    @Option(help: "NetCDF variable to read (name or group/name); default: the one field variable.")
    var variable: String?

    @Option(help: "ODIM quantity to read (RATE, DBZH, ACRR, QIND, ...); default: RATE, ACRR or DBZH.")
    var quantity: String?

    @Option(help: "Value for ODIM 'undetect' pixels; default 0 for rates, -32 for reflectivity.")
    var undetectValue: Float?

    @Option(help: "Generic HDF5: path of the dataset to read, e.g. /precip/data.")
    var dataset: String?

    @Option(help: "Generic HDF5: calibration gain (value = stored * gain + offset).")
    var gain: Double = 1

    @Option(help: "Generic HDF5: calibration offset.")
    var offset: Double = 0

    @Option(help: "Generic HDF5: stored value meaning missing (becomes NaN).")
    var nodata: Double?

    @Option(help: "Generic HDF5: stored value meaning 'nothing detected'.")
    var undetect: Double?

    @Option(help: "Generic HDF5: valid time from an attribute, OBJECT@NAME (e.g. /what@time).")
    var timeAttribute: String?

    @Option(help: "Layout of a string time attribute, strftime style (e.g. %Y%m%d%H%M).")
    var timeFormat: String?

    @Option(help: "Valid time from the file name, strftime style (e.g. %Y%m%d_%H%M%S).")
    var timeFromFilename: String?

    @Option(help: "Generic HDF5: units of the calibrated values.")
    var units: String?

    /// The library's read options.
    func readOptions() throws -> FieldReadOptions {
        FieldReadOptions(
            variable: variable, quantity: quantity, undetectValue: undetectValue, hdf5Dataset: dataset,
            calibration: Calibration(gain: gain, offset: offset, nodata: nodata, undetect: undetect, undetectValue: undetectValue),
            timeAttribute: timeAttribute, timeFormat: try timeFormat.map(TimePattern.init),
            timeFromFileName: try timeFromFilename.map(TimePattern.init), units: units)
    }
}
