import Foundation
import NowcastData
import NowcastIO

/// The observations a verification compares with, read through the archive readers, brought into
/// the forecasts' units by physical transforms and onto their grid (the same grid, or block means of
/// a finer one), and kept by valid time only while later products can still need them.
final class ObservationWindow {
    let series: FrameSeries
    /// The forecasts' grid, which the fields come on.
    let grid: Grid
    let matchDescription: String
    private let chain: TransformChain
    private let factor: Int
    private let index: [Int64: Int]
    private var cache: [Int64: [Float]] = [:]

    init(config: VerificationConfig, chain: TransformChain, forecastGrid: Grid, forecastUnits: String, productPath: String) throws {
        let files: [String]
        do { files = try ArchiveListing.files(config.observations) } catch {
            throw VerificationError.data(detail: "observations: \(error)")
        }
        series = try FrameSeries(files: files, options: config.field)
        self.chain = chain
        grid = forecastGrid
        let first = series.entries[0].path
        let o = series.grid
        if o.matches(forecastGrid) {
            factor = 1
            matchDescription = "observations on the products' grid (\(o.ny) x \(o.nx))"
        } else if let f = o.blockFactor(of: forecastGrid) {
            factor = f
            matchDescription = "block means of \(f) x \(f) observation pixels (\(o.ny) x \(o.nx) to \(forecastGrid.ny) x \(forecastGrid.nx))"
        } else {
            throw VerificationError.data(detail: "the products' grid \(forecastGrid.ny) x \(forecastGrid.nx) \(forecastGrid.summary) (\(productPath)) is not the observations' "
                + "\(o.ny) x \(o.nx) \(o.summary) (\(first)), nor block means of it")
        }
        let sample = try series.frame(0)
        let units = chain.physicalUnits(source: sample.units)
        guard Self.sameUnits(units, forecastUnits) else {
            throw VerificationError.data(detail: "the observations are in '\(units)' (\(first)\(chain.steps.isEmpty ? "" : " after \(chain.summary)")), "
                + "the products in '\(forecastUnits)' (\(productPath)); bring them together with --transform (e.g. rate:10 for 10-minute accumulations)")
        }
        var index: [Int64: Int] = [:]
        for (k, entry) in series.entries.enumerated() { index[VerificationJob.seconds(entry.validTime)] = k }
        self.index = index
    }

    /// The observation valid at `time` on the forecasts' grid; an error naming `purpose` when the
    /// observations have no frame then.
    func field(at time: Date, purpose: String) throws -> [Float] {
        let key = VerificationJob.seconds(time)
        if let field = cache[key] { return field }
        guard let k = index[key] else {
            let span = "\(UTCTime.iso8601(series.entries[0].validTime)) to \(UTCTime.iso8601(series.entries[series.count - 1].validTime))"
            throw VerificationError.data(detail: "no observation valid at \(UTCTime.iso8601(time)) for \(purpose) (the observations' \(series.count) frames run \(span))")
        }
        var values = try series.frame(k).values
        values.withUnsafeMutableBufferPointer { chain.forward($0) }
        let field = Coarsening.blockMean(values, ny: series.grid.ny, nx: series.grid.nx, factor: factor)
        cache[key] = field
        return field
    }

    /// Drops the fields valid before `time`.
    func forget(before time: Date) {
        let limit = VerificationJob.seconds(time)
        cache = cache.filter { $0.key >= limit }
    }

    /// Units compared as people write them: `mm/h`, `mm h-1`, `mm hr-1` and `mm h^-1` are one.
    static func sameUnits(_ a: String, _ b: String) -> Bool { canonical(a) == canonical(b) }

    private static func canonical(_ units: String) -> String {
        var text = units.lowercased().replacingOccurrences(of: " ", with: "").replacingOccurrences(of: "^", with: "")
        for (from, to) in [("/hour", "h-1"), ("/hr", "h-1"), ("/h", "h-1"), ("hour-1", "h-1"), ("hr-1", "h-1"), ("mm.h-1", "mmh-1")] {
            text = text.replacingOccurrences(of: from, with: to)
        }
        return text
    }
}
