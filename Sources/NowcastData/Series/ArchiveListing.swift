import Foundation

/// Expands inputs into a sorted list of files: plain files, folders (searched recursively for files
/// with the given extensions) and glob patterns (`*`, `?`, `[...]` in the last path components).
public enum ArchiveListing {
    /// Extensions of field files searched in folders.
    public static let defaultExtensions = ["nc", "nc4", "netcdf", "h5", "hdf", "hdf5", "he5"]

    /// The files `inputs` name, sorted and without duplicates; throws when an input matches nothing.
    public static func files(_ inputs: [String], extensions: [String] = defaultExtensions) throws -> [String] {
        var result: [String] = []
        for input in inputs {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: input, isDirectory: &isFolder) {
                result += isFolder.boolValue ? try folderFiles(input, extensions: extensions) : [input]
            } else if input.contains(where: { "*?[".contains($0) }) {
                let matches = glob(input)
                guard !matches.isEmpty else { throw NowcastDataError.input(path: input, detail: "the pattern matches no file") }
                result += matches
            } else {
                throw NowcastDataError.input(path: input, detail: "no such file or folder")
            }
        }
        var seen = Set<String>()
        return result.filter { seen.insert($0).inserted }.sorted()
    }

    private static func folderFiles(_ folder: String, extensions: [String]) throws -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: folder) else {
            throw NowcastDataError.input(path: folder, detail: "the folder cannot be read")
        }
        var files: [String] = []
        while let relative = enumerator.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            guard !name.hasPrefix("."), extensions.contains((name as NSString).pathExtension.lowercased()) else { continue }
            let path = (folder as NSString).appendingPathComponent(relative)
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue { files.append(path) }
        }
        return files
    }

    private static func glob(_ pattern: String) -> [String] {
        var matches = glob_t()
        defer { globfree(&matches) }
        guard Glibc.glob(pattern, 0, nil, &matches) == 0 else { return [] }
        return (0..<Int(matches.gl_pathc)).compactMap { matches.gl_pathv[$0].map { String(cString: $0) } }
    }
}

#if canImport(Glibc)
import Glibc
#endif
