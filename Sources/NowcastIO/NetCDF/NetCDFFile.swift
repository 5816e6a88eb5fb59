import CNetCDF
import Foundation

/// An open NetCDF file (classic, 64-bit offset or NetCDF-4), read-only. Closed when released.
public final class NetCDFFile {
    /// The path the file was opened from.
    public let path: String
    let ncid: Int32

    /// Opens `path` for reading; throws `.fileNotFound`, `.unrecognisedFormat` or `.unreadable`.
    public init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw NowcastIOError.fileNotFound(path: path) }
        self.path = path
        var id: Int32 = 0
        try netcdfCall(path, "opening") { nc_open(path, NC_NOWRITE, &id) }
        ncid = id
        try checkClassicSize()
    }

    /// A classic-format file shorter than its header says is truncated; netCDF-C would read zeros.
    private func checkClassicSize() throws {
        var format: Int32 = 0
        try netcdfCall(path, "reading the format") { nc_inq_format(ncid, &format) }
        guard [NC_FORMAT_CLASSIC, NC_FORMAT_64BIT_OFFSET, NC_FORMAT_64BIT_DATA].contains(format),
              let required = ClassicLayout.requiredSize(path: path),
              let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int
        else { return }
        guard size >= required else {
            throw NowcastIOError.unreadable(path: path, detail: "the file has \(size) bytes; its header describes \(required)")
        }
    }

    deinit {
        let id = ncid
        LibraryLock.run { _ = nc_close(id) }
    }

    /// The root group.
    public var root: NetCDFGroup { NetCDFGroup(file: self, id: ncid, fullName: "/") }

    /// "classic", "64-bit offset", "64-bit data", "netCDF-4" or "netCDF-4 classic model".
    public func formatName() throws -> String {
        var format: Int32 = 0
        try netcdfCall(path, "reading the format") { nc_inq_format(ncid, &format) }
        switch format {
        case NC_FORMAT_CLASSIC: return "NetCDF classic"
        case NC_FORMAT_64BIT_OFFSET: return "NetCDF 64-bit offset"
        case NC_FORMAT_64BIT_DATA: return "NetCDF 64-bit data"
        case NC_FORMAT_NETCDF4: return "NetCDF-4"
        case NC_FORMAT_NETCDF4_CLASSIC: return "NetCDF-4 classic model"
        default: return "NetCDF (format \(format))"
        }
    }

    /// Finds a variable by name, or by a path such as `group/sub/var`, searching the root group.
    public func variable(_ name: String) throws -> NetCDFVariable {
        var group = root
        var parts = name.split(separator: "/").map(String.init)
        guard let last = parts.popLast() else {
            throw NowcastIOError.variableNotFound(path: path, variable: name, available: try allVariableNames())
        }
        for part in parts {
            guard let child = try group.groups().first(where: { $0.name == part }) else {
                throw NowcastIOError.variableNotFound(path: path, variable: name, available: try allVariableNames())
            }
            group = child
        }
        guard let found = try group.variables().first(where: { $0.name == last }) else {
            throw NowcastIOError.variableNotFound(path: path, variable: name, available: try allVariableNames())
        }
        return found
    }

    /// Every variable in the file, in every group, depth first.
    public func allVariables() throws -> [NetCDFVariable] {
        var result: [NetCDFVariable] = []
        func visit(_ group: NetCDFGroup) throws {
            result += try group.variables()
            for child in try group.groups() { try visit(child) }
        }
        try visit(root)
        return result
    }

    /// The path names (`group/var`) of every variable, for error messages and listings.
    public func allVariableNames() throws -> [String] { try allVariables().map(\.pathName) }
}

/// A NetCDF dimension.
public struct NetCDFDimension: Equatable, Sendable, Codable {
    /// Dimension name.
    public var name: String
    /// Current length.
    public var length: Int
    /// True for an unlimited (record) dimension.
    public var isUnlimited: Bool
}

/// A group in a NetCDF file; classic files have only the root group.
public struct NetCDFGroup {
    let file: NetCDFFile
    let id: Int32
    /// Full path of the group, `/` for the root.
    public let fullName: String

    /// The group's own name (the last component of `fullName`).
    public var name: String { fullName.split(separator: "/").last.map(String.init) ?? "/" }

    /// Child groups (none in classic files).
    public func groups() throws -> [NetCDFGroup] {
        var count: Int32 = 0
        try netcdfCall(file.path, "listing groups of \(fullName)") { nc_inq_grps(id, &count, nil) }
        guard count > 0 else { return [] }
        var ids = [Int32](repeating: 0, count: Int(count))
        try netcdfCall(file.path, "listing groups of \(fullName)") { nc_inq_grps(id, nil, &ids) }
        return try ids.map { child in
            var nameBuffer = [CChar](repeating: 0, count: Int(NC_MAX_NAME) + 1)
            try netcdfCall(file.path, "naming a group of \(fullName)") { nc_inq_grpname(child, &nameBuffer) }
            let childName = String(cString: nameBuffer)
            return NetCDFGroup(file: file, id: child, fullName: fullName == "/" ? "/\(childName)" : "\(fullName)/\(childName)")
        }
    }

    /// Variables defined in this group (not in its children).
    public func variables() throws -> [NetCDFVariable] {
        var count: Int32 = 0
        try netcdfCall(file.path, "listing variables of \(fullName)") { nc_inq_nvars(id, &count) }
        guard count > 0 else { return [] }
        var ids = [Int32](repeating: 0, count: Int(count))
        try netcdfCall(file.path, "listing variables of \(fullName)") { nc_inq_varids(id, nil, &ids) }
        return try ids.map { try NetCDFVariable(group: self, varid: $0) }
    }

    /// Dimensions visible in this group, including those of its ancestors.
    public func dimensions() throws -> [NetCDFDimension] {
        var count: Int32 = 0
        try netcdfCall(file.path, "listing dimensions of \(fullName)") { nc_inq_dimids(id, &count, nil, 1) }
        guard count > 0 else { return [] }
        var ids = [Int32](repeating: 0, count: Int(count))
        try netcdfCall(file.path, "listing dimensions of \(fullName)") { nc_inq_dimids(id, nil, &ids, 1) }
        return try ids.map { try dimension(id: $0) }
    }

    /// Global attributes of this group.
    public func attributes() throws -> Attributes {
        try netcdfAttributes(path: file.path, ncid: id, varid: NC_GLOBAL, owner: "group \(fullName)")
    }

    func dimension(id dimid: Int32) throws -> NetCDFDimension {
        var nameBuffer = [CChar](repeating: 0, count: Int(NC_MAX_NAME) + 1)
        var length = 0
        try netcdfCall(file.path, "reading dimension \(dimid)") { nc_inq_dim(id, dimid, &nameBuffer, &length) }
        var unlimitedCount: Int32 = 0
        var unlimited = [Int32](repeating: -1, count: Int(NC_MAX_DIMS))
        try netcdfCall(file.path, "reading unlimited dimensions") { nc_inq_unlimdims(id, &unlimitedCount, &unlimited) }
        let isUnlimited = unlimited.prefix(Int(unlimitedCount)).contains(dimid)
        return NetCDFDimension(name: String(cString: nameBuffer), length: length, isUnlimited: isUnlimited)
    }
}
