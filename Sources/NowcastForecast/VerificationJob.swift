import Foundation
import NowcastData
import NowcastIO
import NowcastNN
import NowcastVerify

/// `nowcast verify` as a library call: scores every product of every source against the
/// observations valid at its lead times, and the baselines (persistence, extrapolation) made from
/// the same observations for the same reference times, into one `VerificationReport`.
///
/// Products are read one lead time at a time (all members of that lead), in reference-time order,
/// and observations are kept only while a later product can still need them, so memory is bounded
/// by one lead of one product plus the observation window, whatever the number of products.
/// Observations on a finer grid than the products (a model trained on coarsened fields) are
/// compared as block means, the way the training set was coarsened.
public final class VerificationJob {
    public let config: VerificationConfig
    /// Called after each product with (done, total).
    public var progress: (Int, Int) -> Void = { _, _ in }
    /// Warnings and notes, one line each.
    public var log: (String) -> Void = { _ in }

    public init(config: VerificationConfig) { self.config = config }

    /// What a product is, read from its header.
    struct Product {
        var source: Int
        var path: String
        var referenceTime: Date
        var members: Int
    }

    /// The verification and a few facts about it for the terminal.
    public struct Result: Sendable {
        public var report: VerificationReport
        public var products: Int
        public var referenceTimes: Int
        /// How observations were matched to the products' grid, in words.
        public var gridMatch: String
    }

    public func run() throws -> Result {
        try config.validate()
        let (products, first) = try listProducts()
        let chain = try config.transformChain()
        let observed = try ObservationWindow(config: config, chain: chain, forecastGrid: first.grid, forecastUnits: first.units,
                                             productPath: first.path)
        for line in observed.series.report.warningLines { log(line) }
        let leads = first.leadTimes
        let step = first.leadSeconds[0]
        let settings = ScoreSettings(leadTimes: leads, stepSeconds: step, thresholds: config.thresholds, scales: config.scales,
                                     rules: config.rules, bins: config.bins, decibel: config.decibel ? DecibelScale() : nil,
                                     ny: first.grid.ny, nx: first.grid.nx, commonPixels: config.commonPixels)
        var scores = config.sources.enumerated().map { k, source in
            ForecastScores(label: source.label, members: products.first { $0.source == k }?.members ?? 1, settings: settings)
        }
        var baselines = config.baselines.map { ForecastScores(label: $0.rawValue, members: 1, settings: settings) }
        let baselineChain = try ForecastConfig().transformChain()
        let kilometres = first.grid.cellKilometres
        if kilometres == nil, config.baselines.contains(.extrapolation) {
            log("the grid's cells are not in metres or kilometres; the extrapolation baseline takes a pixel as 1 km")
        }

        progress(0, products.count)
        var done = 0
        let groups = Dictionary(grouping: products, by: \.referenceTime).sorted { $0.key < $1.key }
        for (referenceTime, group) in groups {
            let validTimes = (1...leads).map { referenceTime.addingTimeInterval(Double($0) * step) }
            observed.forget(before: referenceTime.addingTimeInterval(-Double(config.motionFrames) * step))
            let files = try group.map { try CFForecastFile(path: $0.path, variable: config.forecastVariable) }
            let truths = try validTimes.enumerated().map { lead, time in
                try observed.field(at: time, purpose: "lead \(lead + 1) of \(group[0].path)")
            }
            let baselineFields = try makeBaselines(at: referenceTime, leads: leads, observed: observed, chain: baselineChain,
                                                   kilometres: kilometres ?? 1, step: step, purpose: group[0].path)
            for product in group { scores[product.source].addForecast(referenceTime: Self.seconds(referenceTime)) }
            for k in baselines.indices { baselines[k].addForecast(referenceTime: Self.seconds(referenceTime)) }
            var all = scores + baselines
            try Self.score(files, sources: group.map(\.source), baselines: baselineFields, against: truths,
                           commonPixels: config.commonPixels, into: &all)
            scores = Array(all.prefix(scores.count))
            baselines = Array(all.suffix(baselines.count))
            done += group.count
            progress(done, products.count)
        }
        for source in scores + baselines {
            let empty = source.continuous.leads.indices.filter { source.continuous.leads[$0].count == 0 }
            if !empty.isEmpty {
                log("'\(source.label)': no pixel scored at lead time\(empty.count == 1 ? "" : "s") \(empty.map { "\($0 + 1)" }.joined(separator: ", "))"
                    + (config.commonPixels ? " (none is valid in every source)" : " (the forecasts or observations are missing everywhere)"))
            }
        }
        let report = VerificationReport(settings: settings, units: first.units, scores: scores + baselines)
        return Result(report: report, products: products.count, referenceTimes: groups.count, gridMatch: observed.matchDescription)
    }

    /// Scores every lead of the products of one reference time (`files`, of sources `sources`)
    /// and of the baselines (`baselineFields[k][lead]`, sources after the products' in `scores`),
    /// the leads shared among the cores: each worker reads its leads' members and adds them to its
    /// own accumulators, merged into `scores` at the end. With `commonPixels` a pixel counts only
    /// where the observation, every member of every product and every baseline are valid, so all
    /// sources are scored on the same pixels; otherwise each product's lead is read, scored and
    /// dropped in turn.
    private static func score(_ files: [CFForecastFile], sources: [Int], baselines baselineFields: [[[Float]]], against truths: [[Float]],
                              commonPixels: Bool, into scores: inout [ForecastScores]) throws {
        let empty = scores.map { ForecastScores(label: $0.label, members: $0.members, settings: $0.settings) }
        let firstBaseline = scores.count - baselineFields.count
        let workers = min(Parallel.workers, truths.count)
        var parts = [[ForecastScores]](repeating: empty, count: workers)
        var failures = [Error?](repeating: nil, count: workers)
        parts.withUnsafeMutableBufferPointer { parts in
            failures.withUnsafeMutableBufferPointer { failures in
                DispatchQueue.concurrentPerform(iterations: workers) { w in
                    do {
                        for lead in stride(from: w, to: truths.count, by: workers) {
                            var truth = truths[lead]
                            if commonPixels {
                                let ensembles = try files.map { try $0.ensemble(lead: lead) }
                                for fields in ensembles + baselineFields.map({ [$0[lead]] }) {
                                    for field in fields { for i in truth.indices where field[i].isNaN { truth[i] = .nan } }
                                }
                                for (f, fields) in ensembles.enumerated() { try parts[w][sources[f]].add(ensemble: fields, observed: truth, lead: lead) }
                            } else {
                                for (f, file) in files.enumerated() { try parts[w][sources[f]].add(ensemble: try file.ensemble(lead: lead), observed: truth, lead: lead) }
                            }
                            for (k, fields) in baselineFields.enumerated() {
                                try parts[w][firstBaseline + k].add(ensemble: [fields[lead]], observed: truth, lead: lead)
                            }
                        }
                    } catch {
                        failures[w] = error
                    }
                }
            }
        }
        if let failure = failures.compactMap({ $0 }).first { throw failure }
        for part in parts { for i in scores.indices { try scores[i].merge(part[i]) } }
    }

    /// The baselines' fields for the reference time `referenceTime`, [baseline][lead].
    private func makeBaselines(at referenceTime: Date, leads: Int, observed: ObservationWindow, chain: TransformChain,
                               kilometres: Double, step: Double, purpose path: String) throws -> [[[Float]]] {
        try config.baselines.map { baseline in
            let purpose = "the \(baseline.rawValue) baseline of \(path)"
            switch baseline {
            case .persistence:
                return [[Float]](repeating: try observed.field(at: referenceTime, purpose: purpose), count: leads)
            case .extrapolation:
                let frames = try (0..<config.motionFrames).reversed().map {
                    try observed.field(at: referenceTime.addingTimeInterval(-Double($0) * step), purpose: purpose)
                }
                let grid = observed.grid
                let method = try ExtrapolationNowcast(frames: frames, ny: grid.ny, nx: grid.nx, transforms: chain, outside: .missing,
                                                      members: 1, seed: 0, kilometresPerPixel: kilometres, stepSeconds: step)
                var fields: [[Float]] = []
                try method.forecast(member: 0, leads: leads) { _, field in fields.append(field) }
                return fields
            }
        }
    }

    /// Every product's header, sorted by reference time; all must share lead times, grid and units.
    private func listProducts() throws -> ([Product], CFForecastFile) {
        var products: [Product] = []
        var first: CFForecastFile?
        for (k, source) in config.sources.enumerated() {
            let files: [String]
            do { files = try ArchiveListing.files(source.products, extensions: ["nc", "nc4", "netcdf"]) } catch {
                throw VerificationError.data(detail: "forecast products of '\(source.label)': \(error)")
            }
            guard !files.isEmpty else {
                throw VerificationError.data(detail: "no forecast products (.nc) in \(source.products.joined(separator: " ")) for '\(source.label)'")
            }
            var members: Int?
            for path in files {
                let file = try CFForecastFile(path: path, variable: config.forecastVariable)
                if let reference = first {
                    try Self.check(file, against: reference)
                } else {
                    guard file.leadSeconds.indices.allSatisfy({ abs(file.leadSeconds[$0] - Double($0 + 1) * file.leadSeconds[0]) < 0.5 }) else {
                        throw VerificationError.data(detail: "\(path): lead times \(file.leadSeconds.map { Int($0) }) s are not evenly spaced from the reference time")
                    }
                    first = file
                }
                if let members, members != file.members {
                    throw VerificationError.data(detail: "\(path) has \(file.members) members, the other products of '\(source.label)' \(members); "
                        + "give products of another ensemble size their own --forecast and --label")
                }
                members = file.members
                if products.contains(where: { $0.source == k && $0.referenceTime == file.referenceTime }) {
                    throw VerificationError.data(detail: "\(path): a second product of '\(source.label)' from \(UTCTime.iso8601(file.referenceTime))")
                }
                products.append(Product(source: k, path: path, referenceTime: file.referenceTime, members: file.members))
            }
        }
        guard let first else { throw VerificationError.data(detail: "no forecast products found") }
        products.sort { ($0.referenceTime, $0.source, $0.path) < ($1.referenceTime, $1.source, $1.path) }
        return (products, first)
    }

    /// Lead times, grid and units must be the first product's.
    private static func check(_ file: CFForecastFile, against first: CFForecastFile) throws {
        guard file.leadSeconds == first.leadSeconds else {
            throw VerificationError.data(detail: "\(file.path) has lead times \(file.leadSeconds.map { Int($0) }) s, \(first.path) \(first.leadSeconds.map { Int($0) }) s; "
                + "verify products of one lead-time layout together")
        }
        guard file.grid.matches(first.grid) else {
            throw VerificationError.data(detail: "\(file.path) is on a \(file.grid.summary) grid, \(first.path) on \(first.grid.summary)")
        }
        guard ObservationWindow.sameUnits(file.units, first.units) else {
            throw VerificationError.data(detail: "\(file.path) is in '\(file.units)', \(first.path) in '\(first.units)'")
        }
    }

    static func seconds(_ date: Date) -> Int64 { Int64(date.timeIntervalSince1970.rounded()) }
}
