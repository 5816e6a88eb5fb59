import Foundation
import NowcastData
import NowcastIO
import NowcastSynthetic

/// Synthetic archives and stores for the tests: deterministic, small, made with the toolkit itself.
public enum SyntheticData {
    /// A CF NetCDF archive of `frames` files of `size` x `size` every `step` minutes from `start`
    /// (no coverage mask unless `mask`).
    @discardableResult
    public static func archive(_ folder: String, frames: Int, size: Int = 48, step: Double = 10, seed: UInt64 = 3,
                               start: String = "2024-06-01T00:00:00Z", mask: Bool = false) throws -> [String] {
        var settings = SyntheticRain.Settings(ny: size, nx: size, stepMinutes: step, seed: seed)
        settings.coverageMask = mask
        return try SyntheticArchive(rain: settings, frames: frames, start: UTCTime.parse(start) ?? Date(), format: .netcdf).write(to: folder)
    }

    /// A store converted (dBR, z-score) from a generated archive under the temporary folder, made
    /// once per test process and `name`: `frames` frames of `size` x `size` every 10 minutes.
    public static func store(_ name: String, size: Int, frames: Int, seed: UInt64, window: WindowSpec, split: SplitSpec, shardSize: Int,
                             filters: WindowFilters = WindowFilters()) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("nowcastkit-\(name)-\(getpid())").path
        try? FileManager.default.removeItem(atPath: root)
        try archive(root + "/archive", frames: frames, size: size, seed: seed)
        var config = ConvertConfig()
        config.inputs = [root + "/archive"]
        config.output = root + "/store"
        config.transforms = ["dbr:0.1:-15", "zscore"]
        config.window = window
        config.filters = filters
        config.split = split
        config.shardSize = shardSize
        _ = try Converter(config: config).run()
        return config.output
    }
}
