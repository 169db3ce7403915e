/// A text message from a presence.v1 server, read in place without allocating.
///
/// Not a JSON parser: the gateway's encoders write compact JSON with members in a fixed
/// order (`EventEncoder`, `ReplyEncoder`, `ServerHello`), so every message is recognised by
/// its first bytes and the few values the load client needs are found by searching for
/// their `"key":` (Protocol/README.md §2: `seq` is always first in an event, `type` then `id`
/// first in a reply). A message that fits none of the shapes is `.unrecognised`, and the
/// client counts it as a protocol failure.
struct ServerText {
    let bytes: UnsafeRawBufferPointer

    /// What a message is.
    enum Kind {
        /// `{"seq":N,"type":"…` — `typeStart` indexes the type name's first byte.
        case event(seq: UInt64, typeStart: Int)
        /// `{"type":"ok","id":"…` — `idStart` indexes the request ID's first byte.
        case ok(idStart: Int)
        /// `{"type":"error","id":"…` (or `"id":null`, then `idStart` is nil).
        case error(idStart: Int?)
        case hello
        case closing
        case unrecognised
    }

    /// Event types the client tells apart.
    enum EventType {
        case snapshot, presence, chat, chatAccepted, ownStatus, other
    }

    var kind: Kind {
        if hasPrefix(Self.seqPrefix) {
            guard let (seq, end) = unsignedInteger(at: Self.seqPrefix.count), matches(Self.typeAfterSeq, at: end) else { return .unrecognised }
            return .event(seq: seq, typeStart: end + Self.typeAfterSeq.count)
        }
        if hasPrefix(Self.okPrefix) { return .ok(idStart: Self.okPrefix.count) }
        if hasPrefix(Self.errorPrefix) {
            return .error(idStart: matches(Self.quote, at: Self.errorPrefix.count) ? Self.errorPrefix.count + 1 : nil)
        }
        if hasPrefix(Self.helloPrefix) { return .hello }
        if hasPrefix(Self.closingPrefix) { return .closing }
        return .unrecognised
    }

    func eventType(at start: Int) -> EventType {
        if matches(Self.presenceType, at: start) { return .presence }
        if matches(Self.chatType, at: start) { return .chat }
        if matches(Self.chatAcceptedType, at: start) { return .chatAccepted }
        if matches(Self.snapshotType, at: start) { return .snapshot }
        if matches(Self.ownStatusType, at: start) { return .ownStatus }
        return .other
    }

    // MARK: - Values

    /// The index just after the first `"key":"` (or `"key":`) at or after `from`.
    func valueStart(of key: [UInt8], from: Int) -> Int? {
        guard key.count <= bytes.count else { return nil }
        var i = from
        let last = bytes.count - key.count
        let first = key[0]
        while i <= last {
            if bytes[i] == first && matches(key, at: i) { return i + key.count }
            i += 1
        }
        return nil
    }

    /// The decimal number at `index` and the index after it.
    func unsignedInteger(at index: Int) -> (UInt64, Int)? {
        var i = index
        var value: UInt64 = 0
        while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 {
            value = value &* 10 &+ UInt64(bytes[i] - 48)
            i += 1
        }
        return i > index ? (value, i) : nil
    }

    /// The load user index of the address at `index`: `user<digits>@load.test`.
    func userIndex(at index: Int) -> Int? {
        guard matches(Self.userPrefix, at: index), let (n, end) = unsignedInteger(at: index + Self.userPrefix.count),
              end < bytes.count, bytes[end] == UInt8(ascii: "@") else { return nil }
        return Int(n)
    }

    /// The string value starting at `index` (just after its opening quote), as a String.
    /// Allocates: for sign-in replies only, never per event.
    func string(at index: Int) -> String? {
        var end = index
        while end < bytes.count, bytes[end] != UInt8(ascii: "\"") { end += 1 }
        guard end < bytes.count else { return nil }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[index..<end]), as: UTF8.self)
    }

    func matches(_ pattern: [UInt8], at index: Int) -> Bool {
        guard index >= 0, index + pattern.count <= bytes.count else { return false }
        for k in 0..<pattern.count where bytes[index + k] != pattern[k] { return false }
        return true
    }

    func hasPrefix(_ pattern: [UInt8]) -> Bool { matches(pattern, at: 0) }

    /// The whole message as text, for failure notes.
    var text: String { String(decoding: bytes.prefix(300), as: UTF8.self) }

    // MARK: - Byte patterns

    static let seqPrefix = Array(#"{"seq":"#.utf8)
    static let typeAfterSeq = Array(#","type":""#.utf8)
    static let okPrefix = Array(#"{"type":"ok","id":""#.utf8)
    static let errorPrefix = Array(#"{"type":"error","id":"#.utf8)
    static let helloPrefix = Array(#"{"type":"hello""#.utf8)
    static let closingPrefix = Array(#"{"type":"closing""#.utf8)
    static let quote = Array(#"""#.utf8)
    static let presenceType = Array(#"presence""#.utf8)
    static let chatType = Array(#"chat""#.utf8)
    static let chatAcceptedType = Array(#"chatAccepted""#.utf8)
    static let snapshotType = Array(#"snapshot""#.utf8)
    static let ownStatusType = Array(#"ownStatus""#.utf8)
    static let userPrefix = Array("user".utf8)
    static let userKey = Array(#""user":""#.utf8)
    static let statusKey = Array(#""status":""#.utf8)
    static let fromKey = Array(#""from":""#.utf8)
    static let clientMessageIDKey = Array(#""clientMessageId":""#.utf8)
    static let receiptKey = Array(#""receipt":""#.utf8)
    static let deviceTokenKey = Array(#""deviceToken":""#.utf8)
    static let resumeTokenKey = Array(#""resumeToken":""#.utf8)
    static let codeKey = Array(#""code":""#.utf8)
}
