import WebSocket

/// Builds the body of `GET /metrics` in the Prometheus text exposition format 0.0.4:
/// `# HELP` and `# TYPE` lines once per family, then one sample per line.
public struct PrometheusText: Sendable {
    /// The metric kinds the gateway exposes.
    public enum Kind: String, Sendable {
        case counter
        case gauge
    }

    /// The text so far.
    public private(set) var text = ""

    /// Starts an empty exposition.
    public init() {}

    /// Starts a family. `name` must match `[a-zA-Z_:][a-zA-Z0-9_:]*`; counters end in `_total`.
    public mutating func family(_ name: String, _ kind: Kind, help: String) {
        text += "# HELP \(name) \(Self.escapedHelp(help))\n# TYPE \(name) \(kind.rawValue)\n"
    }

    /// Adds a sample of the current family.
    public mutating func sample(_ name: String, labels: [(name: String, value: String)] = [], _ value: Int64) {
        text += name
        if !labels.isEmpty {
            text += "{" + labels.map { "\($0.name)=\"\(Self.escapedLabel($0.value))\"" }.joined(separator: ",") + "}"
        }
        text += " \(value)\n"
    }

    /// The `/metrics` response.
    public var response: HTTPResponse {
        HTTPResponse(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8"),
                                            ("Cache-Control", "no-store")], body: Array(text.utf8))
    }

    /// Label values escape backslash, double quote and line feed.
    static func escapedLabel(_ value: String) -> String {
        value.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"").replacing("\n", with: "\\n")
    }

    /// Help text escapes backslash and line feed.
    static func escapedHelp(_ value: String) -> String {
        value.replacing("\\", with: "\\\\").replacing("\n", with: "\\n")
    }
}
