import ArgumentParser
import Foundation
import NowcastCore
import NowcastIO

/// The `nowcast` command: a thin shell over the NowcastKit libraries.
@main
struct Nowcast: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nowcast",
        abstract: "Precipitation nowcasting toolkit: read radar archives, make training sets, train models, write forecasts.",
        discussion: helpExamples("nowcast synth -o /tmp/archive --frames 144 --size 128,128",
                                 "nowcast convert --input /tmp/archive --t-in 4 --t-out 6 --patch-size 64 -o /tmp/store",
                                 "nowcast train --store /tmp/store -o /tmp/run --model convlstm --steps 500"),
        version: NowcastKitVersion.current,
        subcommands: [Inspect.self, Synth.self, Convert.self, Stats.self, Train.self, Forecast.self, Verify.self, Plot.self, Equation.self, Bench.self]
    )

    /// Parses and runs; a failure of the work itself prints one line on stderr and exits 1.
    static func main() {
        tuneOpenMP()
        LibraryCrashGuard.install(prefix: "nowcast: ")
        let command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withError: error)
        }
        do {
            var runnable = command
            try runnable.run()
        } catch let error as CleanExit {
            exit(withError: error)
        } catch let error as ExitCode {
            exit(withError: error)
        } catch where exitCode(for: error) == .success {
            // `--help` and `--version` arrive here: argument-parser's built-in help command throws them from run().
            exit(withError: error)
        } catch {
            FileHandle.standardError.write(Data("nowcast: \(oneLine(error))\n".utf8))
            Foundation.exit(1)
        }
    }
}

/// oneDNN runs on libgomp, whose threads spin for a while after each call (GOMP_SPINCOUNT, 300000
/// by default) and then compete with the engine's own workers for the cores; 1000 lets the engine's
/// workers have them sooner (figures in docs/PERFORMANCE.md). libgomp reads the
/// setting only when it loads, before `main`, so the command executes itself once more with it set.
/// A value set by the user is kept; if the re-execution fails, the run goes on with the default.
private func tuneOpenMP() {
    guard getenv("GOMP_SPINCOUNT") == nil else { return }
    setenv("GOMP_SPINCOUNT", "1000", 1)
    execv("/proc/self/exe", CommandLine.unsafeArgv)
}


/// Writes a line to standard error (progress, warnings), keeping standard output for results.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
