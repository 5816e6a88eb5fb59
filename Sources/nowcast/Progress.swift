import Foundation

/// Progress of a long job on standard error: a bar redrawn in place on a terminal (count, rate,
/// ETA); otherwise plain lines at each further tenth, at most one every 2 seconds, and the last one.
final class Progress {
    private let label: String
    private let total: Int
    private let unit: String
    private let started = Date()
    private let isTerminal = isatty(STDERR_FILENO) != 0
    private var lastDecile = -1
    private lazy var lastDraw = started

    private let initial: Int

    /// A job of `total` items, of which `initial` were done before (a resumed job).
    init(_ label: String, total: Int, unit: String, initial: Int = 0) {
        self.label = label
        self.total = max(1, total)
        self.unit = unit
        self.initial = initial
    }

    /// A `(done, total)` callback for a library job that learns its total when it starts: the bar
    /// is made at the first call.
    static func callback(_ label: String, unit: String) -> (Int, Int) -> Void {
        var bar: Progress?
        return { done, total in
            if bar == nil { bar = Progress(label, total: total, unit: unit) }
            bar?.update(done)
        }
    }

    /// Reports that `done` items are finished; `detail` (e.g. the loss) is shown after the rate.
    func update(_ done: Int, detail: String = "") {
        let elapsed = Date().timeIntervalSince(started)
        let rate = elapsed > 0 ? Double(done - initial) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : 0
        if isTerminal {
            guard done == total || Date().timeIntervalSince(lastDraw) > 0.1 else { return }
            lastDraw = Date()
            let width = 30
            let filled = width * done / total
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            let line = String(format: "\r%@ [%@] %d/%d %@  %.1f %@/s  ETA %@%@\u{1B}[K", label, bar, done, total, unit, rate, unit, Self.clock(eta),
                              detail.isEmpty ? "" : "  " + detail)
            FileHandle.standardError.write(Data(line.utf8))
            if done == total { FileHandle.standardError.write(Data("\n".utf8)) }
        } else {
            let decile = 10 * done / total
            guard done == total || (decile != lastDecile && Date().timeIntervalSince(lastDraw) >= 2) else { return }
            lastDecile = decile
            lastDraw = Date()
            printError(String(format: "%@: %d/%d %@ (%.1f %@/s, ETA %@)%@", label, done, total, unit, rate, unit, Self.clock(eta),
                              detail.isEmpty ? "" : " " + detail))
        }
    }

    private static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
