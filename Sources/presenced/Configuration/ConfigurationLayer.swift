import Foundation

/// The values one source gave, by setting name, before they are typed and checked.
/// Keeping them as text until then gives every source the same rules and the same error
/// messages: `--port x`, `PRESENCE_PORT=x` and `"port": "x"` fail alike.
struct ConfigurationLayer: Sendable, Equatable {
    /// A value as given, and where from (`--port`, `PRESENCE_PORT`, the file's path).
    struct Entry: Sendable, Equatable {
        enum Value: Sendable, Equatable {
            case scalar(String)
            case list([String])
        }
        var value: Value
        var origin: String
    }

    private(set) var entries: [String: Entry] = [:]

    subscript(setting: Setting) -> Entry? { entries[setting.name] }

    mutating func set(_ setting: Setting, _ value: Entry.Value, origin: String) {
        entries[setting.name] = Entry(value: value, origin: origin)
    }

    /// `self`, with every setting `higher` gives replaced by its value.
    func overridden(by higher: ConfigurationLayer) -> ConfigurationLayer {
        var merged = self
        merged.entries.merge(higher.entries) { _, new in new }
        return merged
    }
}

// MARK: - Sources

extension ConfigurationLayer {
    /// The `PRESENCE_…` variables that name a setting. Others are ignored: the
    /// environment is shared with the rest of the system (and test harnesses), unlike the
    /// file, which is ours alone.
    static func environment(_ variables: [String: String]) -> ConfigurationLayer {
        var layer = ConfigurationLayer()
        for setting in Settings.all {
            guard let text = variables[setting.environmentName] else { continue }
            switch setting.shape {
            case .scalar:
                layer.set(setting, .scalar(text), origin: setting.environmentName)
            case .list(let separator):
                let items = text.components(separatedBy: separator).filter { !$0.isEmpty }
                layer.set(setting, .list(items), origin: setting.environmentName)
            }
        }
        return layer
    }

    /// A JSON object whose keys are setting names (`{"port": 8080, "data-dir": "/var/lib/presence"}`).
    /// Lists are arrays of strings; numbers and booleans may be written as JSON numbers
    /// and booleans or as strings. An unknown key is an error: a typo must not silently
    /// leave a default in place.
    static func file(at path: String) throws(ConfigurationError) -> ConfigurationLayer {
        if let problem = FileCheck.readableFileProblem(path) { throw .unreadableFile(path: path, reason: problem) }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .unreadableFile(path: path, reason: Self.oneLine(error))
        }
        let object: [String: JSONValue]
        do {
            object = try JSONDecoder().decode([String: JSONValue].self, from: data)
        } catch {
            throw .malformedFile(path: path, reason: Self.oneLine(error))
        }
        var layer = ConfigurationLayer()
        for key in object.keys.sorted() {
            guard let setting = Settings.named(key) else {
                throw .unknownKey(key: key, file: path, suggestion: Self.closestName(to: key))
            }
            let value = object[key]!
            switch (setting.shape, value) {
            case (.scalar, .array), (.scalar, .object), (.scalar, .null):
                throw .invalidValue(setting: key, value: value.text, origin: path, allowed: "must be a single string, number or boolean")
            case (.scalar, _):
                layer.set(setting, .scalar(value.text), origin: path)
            case (.list, .array(let items)):
                var strings: [String] = []
                for item in items {
                    guard case .string(let s) = item else {
                        throw .invalidValue(setting: key, value: value.text, origin: path, allowed: "must be an array of strings")
                    }
                    strings.append(s)
                }
                layer.set(setting, .list(strings), origin: path)
            case (.list, _):
                throw .invalidValue(setting: key, value: value.text, origin: path, allowed: "must be an array of strings")
            }
        }
        return layer
    }

    /// The setting name nearest to a mistyped key, if it is near enough to be a typo.
    static func closestName(to key: String) -> String? {
        let scored = Settings.all.map { ($0.name, editDistance(key, $0.name)) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(2, key.count / 3) else { return nil }
        return best.0
    }

    private static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        var row = Array(0...b.count)
        for i in 1...a.count {
            var previous = row[0]
            row[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let current = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = current
            }
        }
        return row[b.count]
    }

    private static func oneLine(_ error: Error) -> String {
        var text: String
        if case DecodingError.dataCorrupted(let context) = error {
            text = context.debugDescription
            if let underlying = context.underlyingError { text += " " + "\(underlying)" }
        } else if case DecodingError.typeMismatch(_, let context) = error {
            text = context.debugDescription
        } else {
            text = "\(error)"
        }
        text = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return text.count > 200 ? String(text.prefix(200)) + "…" : text
    }
}

/// Any JSON value; the file's values are checked against their setting, not by type.
enum JSONValue: Decodable, Equatable, Sendable {
    case bool(Bool), integer(Int64), number(Double), string(String), array([JSONValue]), object([String: JSONValue]), null

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int64.self) { self = .integer(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    /// The value as the text a flag would carry.
    var text: String {
        switch self {
        case .bool(let b): "\(b)"
        case .integer(let i): "\(i)"
        case .number(let d): "\(d)"
        case .string(let s): s
        case .array(let items): "[" + items.map(\.text).joined(separator: ", ") + "]"
        case .object: "{…}"
        case .null: "null"
        }
    }
}
