/// The examples block every command's `--help` ends its overview with: commands a user can paste,
/// and where every option is described.
func helpExamples(_ commands: String...) -> String {
    "Example\(commands.count > 1 ? "s" : ""):\n" + commands.map { "  " + $0 }.joined(separator: "\n")
        + "\n\nEvery option, with what it does: docs/CLI.md."
}
