/// Why `presenced` refused its configuration. Each case prints as one line naming the
/// setting, the value, where the value came from and what is allowed, so an operator
/// reading `journalctl` knows what to fix without the manual.
enum ConfigurationError: Error, Equatable, CustomStringConvertible {
    /// A value that is not allowed for its setting.
    case invalidValue(setting: String, value: String, origin: String, allowed: String)
    /// A key in the configuration file that names no setting.
    case unknownKey(key: String, file: String, suggestion: String?)
    /// The configuration file could not be read.
    case unreadableFile(path: String, reason: String)
    /// The configuration file is not a JSON object.
    case malformedFile(path: String, reason: String)

    /// Settings whose values are credentials.
    static let secretSettings: Set<String> = ["admin-token", "database-url"]

    var description: String {
        switch self {
        case .invalidValue(let setting, let value, let origin, let allowed):
            // A credential never reaches a log, even when it is wrong.
            let shown = Self.secretSettings.contains(setting) ? "***" : value.debugDescription
            return "invalid configuration: \(setting) = \(shown) (from \(origin)): \(allowed)"
        case .unknownKey(let key, let file, let suggestion):
            let hint = suggestion.map { "did you mean \"\($0)\"? " } ?? ""
            return "invalid configuration: \(key.debugDescription) in \(file) is not a setting (\(hint)see presenced --help)"
        case .unreadableFile(let path, let reason):
            return "invalid configuration: config = \(path.debugDescription): cannot be read (\(reason))"
        case .malformedFile(let path, let reason):
            return "invalid configuration: config = \(path.debugDescription): must be a JSON object of settings (\(reason))"
        }
    }
}
