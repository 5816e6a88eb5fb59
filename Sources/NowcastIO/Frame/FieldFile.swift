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
    /// Where the valid times came from, e.g. `variable 'time'`, `global attribute 'time_coverage_end'`.
    var timeSource: String { get }
    /// How stored values are decoded, in words (`raw values, no calibration found` when they are not).
    var decoding: String { get }
    /// The file's global (root) attributes.
    var globalAttributes: Attributes { get }
    /// What the reader noticed and made a choice about (a missing quantity, a time taken from the
    /// file's creation date), one line each.
    var warnings: [String] { get }
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
/// `Conventions = ODIM_H5/...` as ODIM, KNMI's radar HDF5 by its own layout, other HDF5 as generic
/// HDF5 when `options.hdf5Dataset` names a dataset.
public func openFieldFile(_ path: String, options: FieldReadOptions = FieldReadOptions()) throws -> FieldFile {
    switch try ContainerFormat.detect(path) {
    case .netcdfClassic:
        return try CFFieldFile(path: path, options: options)
    case .hdf5:
        let hdf5 = try HDF5File(path: path)
        if options.hdf5Dataset != nil { return try HDF5FieldFile(file: hdf5, layout: HDF5Layout(options: options, path: path)) }
        let conventions = try hdf5.attributes(of: "/")["Conventions"]?.stringValue ?? ""
        if conventions.uppercased().hasPrefix("ODIM_H5") { return try ODIMFieldFile(file: hdf5, options: options) }
        if let layout = try KNMILayout.detect(hdf5) { return try HDF5FieldFile(file: hdf5, layout: layout) }
        if isNetCDF4(hdf5) { return try CFFieldFile(path: path, options: options) }
        let datasets = (try? hdf5.allDatasets().joined(separator: ", ")) ?? "?"
        let named = options.variable.map { "--variable '\($0)' names a NetCDF variable, and this is " } ?? ""
        throw NowcastIOError.invalidOption(
            path: path,
            detail: "\(named)an HDF5 file that is neither NetCDF-4, ODIM_H5 nor a known layout; name the dataset to read with --dataset "
                + "and its calibration with --gain/--offset/--nodata (datasets: \(datasets))")
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
