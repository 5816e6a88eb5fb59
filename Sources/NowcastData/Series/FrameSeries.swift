import Foundation
import NowcastIO

/// A time-ordered index over an archive: where each frame is (file and index within it) and its valid
/// time. Frames are read lazily, one at a time. Building the index opens every file once to read its
/// times and grid; the values are not read until asked for.
public final class FrameSeries {
    /// Where one frame lives.
    public struct Entry: Equatable, Sendable, Codable {
        /// The file.
        public var path: String
        /// Index of the frame within the file.
        public var index: Int
        /// Valid time.
        public var validTime: Date
    }

    /// What indexing found besides the frames.
    public struct Report: Sendable, Codable, Equatable {
        /// Files read.
        public var files = 0
        /// Files skipped because they could not be read, with the reason.
        public var skipped: [String] = []
        /// Frames whose valid time was already taken by an earlier file, which is kept.
        public var duplicates: [String] = []
        /// Gaps: the last time before each missing stretch and the number of missing steps.
        public var gaps: [Gap] = []
        /// What the readers noticed and chose, per file.
        public var warnings: [FileWarning] = []
        /// How the first file's values are decoded, in words.
        public var decoding = ""
        /// The first file's format.
        public var format = ""

        /// The warnings, one line per distinct message with how many files it concerns.
        public var warningLines: [String] {
            var order: [String] = [], files: [String: [String]] = [:]
            for warning in warnings {
                if files[warning.message] == nil { order.append(warning.message) }
                files[warning.message, default: []].append(warning.path)
            }
            return order.map { message in
                let paths = files[message] ?? []
                return paths.count == 1 ? "\(paths[0]): \(message)" : "\(message) (\(paths.count) files, the first \(paths[0]))"
            }
        }
    }

    /// One reader's warning about one file.
    public struct FileWarning: Sendable, Codable, Equatable {
        public var path: String
        public var message: String
    }

    /// A stretch of missing time steps.
    public struct Gap: Sendable, Codable, Equatable {
        /// Valid time of the frame before the gap.
        public var after: Date
        /// Number of steps missing.
        public var missingSteps: Int
    }

    /// The frames, sorted by valid time, one per time.
    public let entries: [Entry]
    /// The common grid.
    public let grid: Grid
    /// The time step, the most frequent difference between consecutive frames, in seconds.
    public let step: TimeInterval
    /// What indexing found.
    public let report: Report
    /// How frames are read.
    public let options: FieldReadOptions
    /// The layout of the archive's NetCDF-4 files, learned from the first one: files that match it
    /// are read through HDF5 alone (see `CFLayout`), others through netCDF.
    public let layout: CFLayout?
    private var openFile: (path: String, file: FieldFile)?

    /// Indexes the files. An unreadable file is skipped and reported (or, with `strict`, an error);
    /// a file on another grid is an error naming both grids. `progress` is called after each file.
    public init(files: [String], options: FieldReadOptions = FieldReadOptions(), strict: Bool = false,
                progress: (Int, Int) -> Void = { _, _ in }) throws {
        guard !files.isEmpty else { throw NowcastDataError.invalidSetting(key: "inputs", expected: "at least one field file",
                                                                     found: "no field files (\(ArchiveListing.defaultExtensions.map { "." + $0 }.joined(separator: ", ")))") }
        self.options = options
        var entries: [Entry] = []
        var report = Report()
        var grid: Grid?
        var gridSource = ""
        var layout: CFLayout?
        for (number, path) in files.enumerated() {
            defer { progress(number + 1, files.count) }
            let file: FieldFile
            do {
                file = try Self.open(path, options: options, layout: layout)
                if layout == nil { layout = (file as? CFFieldFile)?.layout }
            } catch {
                if strict { throw error }
                report.skipped.append("\(error)")
                continue
            }
            report.files += 1
            report.warnings += file.warnings.map { FileWarning(path: path, message: $0) }
            if report.files == 1 {
                report.decoding = file.decoding
                report.format = file.formatName
            }
            if let known = grid {
                guard Self.sameGrid(known, file.grid) else {
                    throw NowcastDataError.series(detail: "\(path): grid \(file.grid.summary) differs from \(gridSource): \(known.summary)")
                }
            } else {
                grid = file.grid
                gridSource = path
            }
            for (index, time) in file.validTimes.enumerated() { entries.append(Entry(path: path, index: index, validTime: time)) }
        }
        guard let commonGrid = grid, !entries.isEmpty else {
            throw NowcastDataError.series(detail: "inputs: none of the \(files.count) files could be read; first problem: \(report.skipped.first ?? "none")")
        }
        entries.sort { $0.validTime < $1.validTime || ($0.validTime == $1.validTime && $0.path < $1.path) }
        var unique: [Entry] = []
        for entry in entries {
            if let last = unique.last, last.validTime == entry.validTime {
                report.duplicates.append("\(UTCTime.iso8601(entry.validTime)) in \(entry.path) (kept \(last.path))")
            } else {
                unique.append(entry)
            }
        }
        let step = Self.inferStep(unique)
        if step > 0 {
            for (a, b) in zip(unique, unique.dropFirst()) {
                let steps = Int((b.validTime.timeIntervalSince(a.validTime) / step).rounded())
                if steps > 1 { report.gaps.append(Gap(after: a.validTime, missingSteps: steps - 1)) }
            }
        }
        self.entries = unique
        self.grid = commonGrid
        self.step = step
        self.report = report
        self.layout = layout
    }

    /// Opens a file by the archive's layout when it matches, through `openFieldFile` otherwise.
    private static func open(_ path: String, options: FieldReadOptions, layout: CFLayout?) throws -> FieldFile {
        if let layout, let file = try? CFLayoutFieldFile(path: path, layout: layout) { return file }
        return try openFieldFile(path, options: options)
    }

    /// Number of frames.
    public var count: Int { entries.count }

    /// Reads frame `i` of the series (the last file stays open for the next read).
    public func frame(_ i: Int) throws -> Frame {
        guard entries.indices.contains(i) else {
            throw NowcastDataError.indexOutOfRange(what: "frame", index: i, count: entries.count)
        }
        let entry = entries[i]
        let file: FieldFile
        if let open = openFile, open.path == entry.path {
            file = open.file
        } else {
            file = try Self.open(entry.path, options: options, layout: layout)
            openFile = (entry.path, file)
        }
        return try file.readFrame(entry.index)
    }

    /// Reads frame `i` through its own file handle: safe to call from several threads at once (the
    /// C libraries are serialised inside; decoding runs in parallel).
    public func readFrameConcurrently(_ i: Int) throws -> Frame {
        guard entries.indices.contains(i) else {
            throw NowcastDataError.indexOutOfRange(what: "frame", index: i, count: entries.count)
        }
        return try Self.open(entries[i].path, options: options, layout: layout).readFrame(entries[i].index)
    }

    /// True when frame `i + 1` follows frame `i` by exactly one step.
    public func isConsecutive(_ i: Int) -> Bool {
        entries[i + 1].validTime.timeIntervalSince(entries[i].validTime) == step
    }

    /// Grids are the same when sizes agree, coordinates agree to a thousandth of a cell, and the
    /// projections are the same.
    public static func sameGrid(_ a: Grid, _ b: Grid) -> Bool {
        guard a.ny == b.ny, a.nx == b.nx, a.xyUnits == b.xyUnits, a.projection == b.projection else { return false }
        let tolerance = 1e-3 * max(a.dx, a.dy)
        return zip(a.x, b.x).allSatisfy { abs($0 - $1) <= tolerance } && zip(a.y, b.y).allSatisfy { abs($0 - $1) <= tolerance }
    }

    private static func inferStep(_ entries: [Entry]) -> TimeInterval {
        var counts: [TimeInterval: Int] = [:]
        for (a, b) in zip(entries, entries.dropFirst()) { counts[b.validTime.timeIntervalSince(a.validTime), default: 0] += 1 }
        return counts.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }?.key ?? 0
    }
}
