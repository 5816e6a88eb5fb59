import Foundation
import NowcastData
import NowcastIO

/// A store converted from a generated archive (no coverage mask) under the temporary folder,
/// made once per test process and `name`: `frames` frames of `size` x `size` every 10 minutes.
func generatedStore(_ name: String, size: Int, frames: Int, seed: UInt64, window: WindowSpec, split: SplitSpec, shardSize: Int,
                    filters: WindowFilters = WindowFilters()) throws -> String {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("nowcastkit-\(name)-\(getpid())").path
    try? FileManager.default.removeItem(atPath: root)
    var settings = SyntheticRain.Settings(ny: size, nx: size, stepMinutes: 10, seed: seed)
    settings.coverageMask = false
    _ = try SyntheticArchive(rain: settings, frames: frames, start: UTCTime.parse("2024-06-01T00:00:00Z") ?? Date(), format: .netcdf)
        .write(to: root + "/archive")
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
