/// A strict RFC 8259 parser for client messages.
///
/// Why not `JSONSerialization`: strictness. Foundation silently keeps the last of two
/// members with the same name (so `{"op":"send","op":"logOut"}` would mean whichever the
/// server happens to read), turns `true` into a number on some platforms, and rounds
/// integers above 2^53 through `Double`. This parser refuses duplicate names, keeps
/// booleans and numbers apart, keeps numbers as text, bounds nesting, and accepts no
/// extension (comments, trailing commas, single quotes, NaN, leading zeros, lone
/// surrogates). Client messages are small and arrive one per op; what costs is allocation,
/// so a string without escapes is made straight from the input and values are not boxed.
struct JSONParser {
    /// Why the text is not acceptable JSON; the text becomes the error message's detail.
    struct Failure: Error, Equatable {
        var reason: String
        var offset: Int
    }

    /// Objects and arrays nested deeper than this are refused, so hostile input cannot
    /// exhaust the stack.
    static let maximumDepth = 32
    /// Up to this many members, a new name is checked against the others by a scan.
    static let membersScannedForDuplicates = 16

    private let input: UnsafeRawBufferPointer
    private var position = 0

    private init(_ input: UnsafeRawBufferPointer) {
        self.input = input
    }

    /// Parses exactly one value, with optional surrounding whitespace.
    static func parse(_ input: UnsafeRawBufferPointer) throws(Failure) -> JSONValue {
        var parser = JSONParser(input)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.position == input.count else { throw parser.failure("text after the JSON value") }
        return value
    }

    /// Parses exactly one value from an array.
    static func parse(_ input: [UInt8]) throws(Failure) -> JSONValue {
        let result = input.withUnsafeBytes { bytes in Result { () throws(Failure) in try parse(bytes) } }
        return try result.get()
    }

    // MARK: - Values

    private mutating func parseValue(depth: Int) throws(Failure) -> JSONValue {
        guard let byte = peek() else { throw failure("unexpected end of text") }
        switch byte {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw failure("unexpected character")
        }
    }

    private mutating func parseObject(depth: Int) throws(Failure) -> JSONValue {
        guard depth <= Self.maximumDepth else { throw failure("nested too deeply") }
        position += 1  // {
        var members: [(key: String, value: JSONValue)] = []
        // Duplicates are found by a scan while the object is small (every op has a handful
        // of members: a set cost more than the rest of the parse), and by a set once it is
        // not, so a 64 KiB object of tiny members stays linear.
        var names: Set<String>?
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            position += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw failure("expected a member name") }
            let name = try parseString()
            // RFC 8259 §4 leaves duplicate names to the implementation; we refuse them so
            // no two readers can disagree about what a message says.
            let isDuplicate: Bool
            if members.count < Self.membersScannedForDuplicates {
                isDuplicate = members.contains { $0.key == name }
            } else {
                if names == nil { names = Set(members.map(\.key)) }
                isDuplicate = !names!.insert(name).inserted
            }
            guard !isDuplicate else { throw failure("duplicate member \"\(name)\"") }
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else { throw failure("expected ':'") }
            position += 1
            skipWhitespace()
            members.append((name, try parseValue(depth: depth)))
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"): position += 1; return .object(members)
            default: throw failure("expected ',' or '}'")
            }
        }
    }

    private mutating func parseArray(depth: Int) throws(Failure) -> JSONValue {
        guard depth <= Self.maximumDepth else { throw failure("nested too deeply") }
        position += 1  // [
        var items: [JSONValue] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            position += 1
            return .array(items)
        }
        while true {
            skipWhitespace()
            items.append(try parseValue(depth: depth))
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"): position += 1; return .array(items)
            default: throw failure("expected ',' or ']'")
            }
        }
    }

    // MARK: - Scalars

    /// RFC 8259 §6: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    private mutating func parseNumber() throws(Failure) -> String {
        let start = position
        if peek() == UInt8(ascii: "-") { position += 1 }
        guard let first = peek(), isDigit(first) else { throw failure("invalid number") }
        position += 1
        if first == UInt8(ascii: "0"), let next = peek(), isDigit(next) { throw failure("leading zero in number") }
        skipDigits()
        if peek() == UInt8(ascii: ".") {
            position += 1
            guard let next = peek(), isDigit(next) else { throw failure("invalid number") }
            skipDigits()
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            position += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { position += 1 }
            guard let next = peek(), isDigit(next) else { throw failure("invalid number") }
            skipDigits()
        }
        return String(decoding: UnsafeRawBufferPointer(rebasing: input[start..<position]), as: UTF8.self)
    }

    private mutating func parseString() throws(Failure) -> String {
        position += 1  // opening quote
        // Most strings have no escape: made straight from the input, with no buffer (and
        // no allocation at all up to 15 bytes, which String keeps inline).
        var end = position
        while end < input.count, input[end] != UInt8(ascii: "\""), input[end] != UInt8(ascii: "\\"), input[end] >= 0x20 { end += 1 }
        if end < input.count, input[end] == UInt8(ascii: "\"") {
            let run = UnsafeRawBufferPointer(rebasing: input[position..<end])
            guard let text = String(validating: run, as: UTF8.self) else { throw failure("invalid UTF-8") }
            position = end + 1
            return text
        }
        var utf8: [UInt8] = []
        while true {
            guard let byte = peek() else { throw failure("unterminated string") }
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                // The transport validated the frame as UTF-8; this guards direct callers.
                guard let text = String(validating: utf8, as: UTF8.self) else { throw failure("invalid UTF-8") }
                return text
            case UInt8(ascii: "\\"):
                try parseEscape(into: &utf8)
            case 0..<0x20:
                throw failure("unescaped control character in string")  // RFC 8259 §7
            default:
                utf8.append(byte)
            }
        }
    }

    private mutating func parseEscape(into utf8: inout [UInt8]) throws(Failure) {
        guard let byte = peek() else { throw failure("unterminated escape") }
        position += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(byte)
        case UInt8(ascii: "b"): utf8.append(0x08)
        case UInt8(ascii: "f"): utf8.append(0x0C)
        case UInt8(ascii: "n"): utf8.append(0x0A)
        case UInt8(ascii: "r"): utf8.append(0x0D)
        case UInt8(ascii: "t"): utf8.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try parseHex4()
            if (0xD800..<0xDC00).contains(scalar) {
                // A high surrogate must be followed by an escaped low one (RFC 8259 §7).
                guard peek() == UInt8(ascii: "\\"), position + 1 < input.count,
                      input[position + 1] == UInt8(ascii: "u")
                else { throw failure("lone surrogate in string") }
                position += 2
                let low = try parseHex4()
                guard (0xDC00..<0xE000).contains(low) else { throw failure("lone surrogate in string") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00..<0xE000).contains(scalar) {
                throw failure("lone surrogate in string")
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw failure("invalid escape") }
            utf8.append(contentsOf: Array(String(Character(unicode)).utf8))
        default:
            throw failure("invalid escape")
        }
    }

    private mutating func parseHex4() throws(Failure) -> UInt32 {
        guard position + 4 <= input.count else { throw failure("invalid \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = input[position]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw failure("invalid \\u escape")
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(Failure) {
        let count = literal.utf8CodeUnitCount
        guard position + count <= input.count else { throw failure("invalid literal") }
        let matches = literal.withUTF8Buffer { expected in
            (0..<count).allSatisfy { input[position + $0] == expected[$0] }
        }
        guard matches else { throw failure("invalid literal") }
        position += count
    }

    // MARK: - Bytes

    @inline(__always) private func peek() -> UInt8? { position < input.count ? input[position] : nil }
    @inline(__always) private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private mutating func skipDigits() {
        while let byte = peek(), isDigit(byte) { position += 1 }
    }

    /// RFC 8259 §2: space, tab, line feed and carriage return only.
    private mutating func skipWhitespace() {
        while let byte = peek(), byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { position += 1 }
    }

    private func failure(_ reason: String) -> Failure { Failure(reason: reason, offset: position) }
}
