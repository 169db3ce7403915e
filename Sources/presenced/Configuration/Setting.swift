import ArgumentParser

/// One configurable setting of `presenced`, known by the same name in every source:
/// the flag `--NAME`, the key `"NAME"` of the JSON file, and the environment variable
/// `PRESENCE_NAME` (upper case, `-` → `_`).
struct Setting: Sendable, Hashable {
    /// How values are written outside JSON (where a list is an array).
    enum Shape: Sendable, Hashable {
        /// One value.
        case scalar
        /// Several values: a repeated flag, a JSON array, or one environment variable
        /// split at `environmentSeparator`.
        case list(environmentSeparator: String)
    }

    /// The flag's long name without dashes, also the file key.
    let name: String
    /// What it does, for `--help`.
    let summary: String
    /// The default as `--help` shows it.
    let defaultText: String
    let shape: Shape

    init(_ name: String, _ summary: String, default defaultText: String, shape: Shape = .scalar) {
        self.name = name
        self.summary = summary
        self.defaultText = defaultText
        self.shape = shape
    }

    var flag: String { "--" + name }

    var environmentName: String {
        "PRESENCE_" + name.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    /// The `--help` text: what it does, its default and its environment variable, so
    /// the help is the complete reference.
    var help: ArgumentHelp {
        var text = "\(summary) (default: \(defaultText); env \(environmentName)"
        if case .list(let separator) = shape { text += ", \(separator.debugDescription)-separated" }
        return ArgumentHelp(text + ")")
    }
}
