import Foundation

/// A file that holds one or more frames of one field, whatever its format. The CF NetCDF, ODIM_H5
/// and generic HDF5 readers implement it; `openFieldFile` picks the right one.
public protocol FieldFile: AnyObject {
    /// The file's path.
    var path: String { get }
    /// A human-readable format name, e.g. `NetCDF-4 (CF)` or `ODIM_H5 V2_2`.
    var formatName: String { get }
    /// The variable, dataset or ODIM quantity the frames come from.
    var fieldName: String { get }
    /// The grid every frame of the file lives on.
    var grid: Grid { get }
    /// Valid time of each frame, in file order.
    var validTimes: [Date] { get }
    /// Reads frame `index` (0-based) with values decoded to `Float32`, NaN for missing.
    func readFrame(_ index: Int) throws -> Frame
}

extension FieldFile {
    /// Number of frames in the file.
    public var frameCount: Int { validTimes.count }

    /// Reads every frame of the file, in order.
    public func readAllFrames() throws -> [Frame] {
        try (0..<frameCount).map { try readFrame($0) }
    }

    func checkIndex(_ index: Int) throws {
        guard (0..<frameCount).contains(index) else {
            throw NowcastIOError.invalidOption(path: path, detail: "frame \(index) requested; the file has \(frameCount)")
        }
    }
}

/// What to read from a file. Every field is optional: the readers choose sensible defaults.
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
    /// Where a generic HDF5 dataset's valid time comes from: an attribute as `OBJECT@NAME`, e.g. `/what@time`.
    public var timeAttribute: String?
    /// Layout of a string time attribute (default: ISO 8601, or `%Y%m%d%H%M%S` digits).
    public var timeFormat: TimePattern?
    /// Reads the valid time from the file name with this pattern, when the file has none (or for HDF5).
    public var timeFromFileName: TimePattern?
    /// Units of a generic HDF5 field (default `1`).
    public var units: String?

    public init(variable: String? = nil, quantity: String? = nil, undetectValue: Float? = nil,
                hdf5Dataset: String? = nil, calibration: Calibration = Calibration(), timeAttribute: String? = nil,
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
}

/// The container format of a file, from its first bytes.
public enum ContainerFormat: String, Sendable, Codable {
    /// NetCDF classic or 64-bit offset/data (`CDF\x01`, `CDF\x02`, `CDF\x05`).
    case netcdfClassic
    /// HDF5, which includes NetCDF-4.
    case hdf5

    /// Detects the format of `path`; throws `.fileNotFound` or `.unrecognisedFormat`.
    public static func detect(_ path: String) throws -> ContainerFormat {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            throw NowcastIOError.unrecognisedFormat(path: path, detail: "a folder")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            if FileManager.default.fileExists(atPath: path) {
                throw NowcastIOError.unrecognisedFormat(path: path, detail: "not readable")
            }
            throw NowcastIOError.fileNotFound(path: path)
        }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 8)) ?? Data()
        if head.count >= 4, head.prefix(3) == Data("CDF".utf8), [1, 2, 5].contains(head[3]) { return .netcdfClassic }
        let signature = Data([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a])
        // HDF5 allows the superblock at 0, 512, 1024, 2048, ... (a user block before it).
        var offset: UInt64 = 0
        let size = (try? handle.seekToEnd()) ?? 0
        while offset + 8 <= size {
            try? handle.seek(toOffset: offset)
            if (try? handle.read(upToCount: 8)) == signature { return .hdf5 }
            offset = offset == 0 ? 512 : offset * 2
        }
        if size == 0 { throw NowcastIOError.unrecognisedFormat(path: path, detail: "empty file") }
        throw NowcastIOError.unrecognisedFormat(path: path, detail: "no NetCDF or HDF5 signature")
    }
}

/// Opens a field file in whichever format it is: NetCDF classic and NetCDF-4 as CF, HDF5 with
/// `Conventions = ODIM_H5/...` as ODIM, other HDF5 as generic HDF5 when `options.hdf5Dataset` names
/// a dataset.
public func openFieldFile(_ path: String, options: FieldReadOptions = FieldReadOptions()) throws -> FieldFile {
    switch try ContainerFormat.detect(path) {
    case .netcdfClassic:
        return try CFFieldFile(path: path, options: options)
    case .hdf5:
        if options.hdf5Dataset != nil { return try HDF5FieldFile(path: path, options: options) }
        let hdf5 = try HDF5File(path: path)
        let conventions = try hdf5.attributes(of: "/")["Conventions"]?.stringValue ?? ""
        if conventions.uppercased().hasPrefix("ODIM_H5") { return try ODIMFieldFile(file: hdf5, options: options) }
        if options.variable != nil || isNetCDF4(hdf5) { return try CFFieldFile(path: path, options: options) }
        let datasets = (try? hdf5.allDatasets().joined(separator: ", ")) ?? "?"
        throw NowcastIOError.invalidOption(
            path: path,
            detail: "HDF5 file that is neither NetCDF-4 nor ODIM_H5; name the dataset to read with --dataset (datasets: \(datasets))")
    }
}

/// True when an HDF5 file was written through netCDF-4 (or h5netcdf): it carries `_NCProperties`
/// or dimension-scale datasets. netCDF-C also opens plain HDF5 files, with made-up dimensions, which would
/// hide the real question (which dataset, which time) behind a missing-time error.
private func isNetCDF4(_ file: HDF5File) -> Bool {
    if (try? file.attributes(of: "/"))?["_NCProperties"] != nil { return true }
    for dataset in (try? file.allDatasets()) ?? [] {
        guard let attributes = try? file.attributes(of: dataset) else { continue }
        if attributes["CLASS"]?.stringValue == "DIMENSION_SCALE" { return true }
    }
    return false
}
