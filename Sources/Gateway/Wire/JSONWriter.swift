/// Writes compact JSON text (RFC 8259) straight into a byte buffer.
///
/// Why by hand and not Foundation: an event is encoded once per presence change and the
/// same bytes then go to every recipient, so this is the fan-out path. `JSONSerialization`
/// and `JSONEncoder` box every value into class instances, build a dictionary per object
/// and then walk it again to serialize: several allocations per field, and an unstable
/// key order. Appending bytes to one reserved array costs one allocation per event, and
/// the key order is the one the spec shows.
///
/// The writer tracks only "is a comma due before the next value", which is all compact
/// JSON needs: opening a container clears it, and every finished value (a container
/// included) sets it.
public struct JSONWriter: Sendable {
    /// The text written so far.
    public var bytes: [UInt8]
    private var isCommaDue: Bool

    /// Starts an empty text. Writing members without `beginObject()` continues an object
    /// whose opening brace someone else writes (the event body after its `seq` prefix).
    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
        isCommaDue = false
    }

    /// Appends object members another writer wrote (`name:value` pairs, comma-separated,
    /// no braces), as if written here. Nothing is appended for empty text.
    public mutating func rawMembers(_ text: [UInt8]) {
        guard !text.isEmpty else { return }
        separate()
        bytes.append(contentsOf: text)
        isCommaDue = true
    }

    // MARK: - Containers

    /// Writes `{`.
    public mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        isCommaDue = false
    }

    /// Writes `}`.
    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        isCommaDue = true
    }

    /// Writes `[`.
    public mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        isCommaDue = false
    }

    /// Writes `]`.
    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        isCommaDue = true
    }

    /// Writes a member name and its colon. Names are the protocol's own ASCII field
    /// names, so they are written without escaping.
    public mutating func key(_ name: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        isCommaDue = false
    }

    /// Writes a member name that is data, not one of the protocol's names (escaped).
    public mutating func dynamicKey(_ name: String) {
        separate()
        var name = name
        name.withUTF8 { Self.appendEscaped($0, to: &bytes) }
        bytes.append(UInt8(ascii: ":"))
        isCommaDue = false
    }

    // MARK: - Scalars

    /// Writes a string literal, escaped per RFC 8259 §7.
    public mutating func string(_ value: String) {
        separate()
        var value = value
        value.withUTF8 { Self.appendEscaped($0, to: &bytes) }
        isCommaDue = true
    }

    /// Writes an unsigned integer.
    public mutating func number(_ value: UInt64) {
        separate()
        Self.appendDecimal(value, to: &bytes)
        isCommaDue = true
    }

    /// Writes a signed integer.
    public mutating func number(_ value: Int64) {
        separate()
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        Self.appendDecimal(value.magnitude, to: &bytes)
        isCommaDue = true
    }

    /// Writes an integer.
    public mutating func number(_ value: Int) { number(Int64(value)) }

    /// Writes `true` or `false`.
    public mutating func bool(_ value: Bool) {
        separate()
        bytes.append(contentsOf: value ? Self.trueLiteral : Self.falseLiteral)
        isCommaDue = true
    }

    /// Writes `null`.
    public mutating func null() {
        separate()
        bytes.append(contentsOf: Self.nullLiteral)
        isCommaDue = true
    }

    /// Writes text that is already one complete JSON value. Only for text this module
    /// produced itself (call payloads re-serialized by `JSONValue.jsonText`).
    public mutating func rawValue(_ jsonText: String) {
        separate()
        var jsonText = jsonText
        jsonText.withUTF8 { bytes.append(contentsOf: $0) }
        isCommaDue = true
    }

    /// Writes a parsed value, compactly.
    mutating func value(_ value: JSONValue) {
        switch value {
        case .null: null()
        case .bool(let flag): bool(flag)
        case .number(let text): rawValue(text)
        case .string(let text): string(text)
        case .array(let items):
            beginArray()
            for item in items { self.value(item) }
            endArray()
        case .object(let members):
            beginObject()
            for member in members {
                dynamicKey(member.key)
                self.value(member.value)
            }
            endObject()
        }
    }

    @inline(__always)
    private mutating func separate() {
        if isCommaDue { bytes.append(UInt8(ascii: ",")) }
    }

    // MARK: - Byte-level helpers

    private static let trueLiteral: [UInt8] = Array("true".utf8)
    private static let falseLiteral: [UInt8] = Array("false".utf8)
    private static let nullLiteral: [UInt8] = Array("null".utf8)
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends `"…"` around `utf8`. RFC 8259 §7: the quotation mark, the reverse solidus
    /// and the control characters U+0000 to U+001F must be escaped; everything else may
    /// pass as UTF-8, which keeps non-ASCII text (names, chats, emoji) at its natural size.
    static func appendEscaped(_ utf8: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var runStart = 0
        for index in 0..<utf8.count {
            let byte = utf8[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            // Copy the clean run before the byte in one go.
            if runStart < index { out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index])) }
            runStart = index + 1
            out.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
            case 0x08: out.append(UInt8(ascii: "b"))
            case 0x0C: out.append(UInt8(ascii: "f"))
            case 0x0A: out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "t"))
            default:
                out.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                        hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]])
            }
        }
        if runStart < utf8.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...])) }
        out.append(UInt8(ascii: "\""))
    }

    /// Appends `value` in decimal without building a `String`.
    static func appendDecimal(_ value: UInt64, to out: inout [UInt8]) {
        if value < 10 {
            out.append(UInt8(ascii: "0") &+ UInt8(value))
            return
        }
        // UInt64.max has 20 digits.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var remaining = value
            var count = 0
            while remaining > 0 {
                digits[19 - count] = UInt8(ascii: "0") &+ UInt8(remaining % 10)
                remaining /= 10
                count += 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[(20 - count)...]))
        }
    }
}
