/// The presence.v1 ops the load client sends (Protocol/README.md §4), written as bytes.
///
/// Request IDs are one letter for the op plus, for `send`, its number: `s` signIn,
/// `r` resume, `t` setStatus, `h` heartbeat, `m<n>` send. Replies are routed on that
/// first letter without looking anything up.
enum ClientOps {
    static let setStatusBusy = Array(#"{"op":"setStatus","id":"t","status":"busy"}"#.utf8)
    static let setStatusOnline = Array(#"{"op":"setStatus","id":"t","status":"online"}"#.utf8)

    static func setStatus(_ status: UserStatus) -> [UInt8] { status == .busy ? setStatusBusy : setStatusOnline }

    /// Sign-in with a device token (the server rotates it; the reply carries the new one).
    static func signIn(deviceToken: String) -> [UInt8] {
        Array(#"{"op":"signIn","id":"s","method":"token","deviceToken":"\#(deviceToken)"}"#.utf8)
    }

    /// Resume of a session whose connection dropped, with the highest `seq` processed.
    static func resume(token: String, lastSeq: UInt64) -> [UInt8] {
        Array(#"{"op":"resume","id":"r","resumeToken":"\#(token)","lastSeq":\#(lastSeq)}"#.utf8)
    }

    /// `{"op":"heartbeat","id":"h","lastSeq":N}` into `buffer` (emptied first, capacity kept).
    static func heartbeat(lastSeq: UInt64, into buffer: inout [UInt8]) {
        buffer.removeAll(keepingCapacity: true)
        buffer.append(contentsOf: heartbeatHead)
        appendDecimal(lastSeq, to: &buffer)
        buffer.append(UInt8(ascii: "}"))
    }

    /// `{"op":"send","id":"m<n>","to":"<to>","clientMessageId":"<run>-<n>","body":"<body>"}`
    /// into `buffer` (emptied first, capacity kept). `run` keeps client message IDs unique
    /// across runs against one database, which holds (sender, clientMessageId) unique.
    static func send(number: UInt64, to: [UInt8], run: UInt64, body: [UInt8], into buffer: inout [UInt8]) {
        buffer.removeAll(keepingCapacity: true)
        buffer.append(contentsOf: sendHead)
        appendDecimal(number, to: &buffer)
        buffer.append(contentsOf: sendTo)
        buffer.append(contentsOf: to)
        buffer.append(contentsOf: sendClientMessageID)
        appendDecimal(run, to: &buffer)
        buffer.append(UInt8(ascii: "-"))
        appendDecimal(number, to: &buffer)
        buffer.append(contentsOf: sendBody)
        buffer.append(contentsOf: body)
        buffer.append(contentsOf: sendTail)
    }

    static func appendDecimal(_ value: UInt64, to buffer: inout [UInt8]) {
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = value, count = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[19 - count] = UInt8(48 + n % 10)
                n /= 10
                count += 1
            } while n > 0
            buffer.append(contentsOf: d[(20 - count)...])
        }
    }

    static let heartbeatHead = Array(#"{"op":"heartbeat","id":"h","lastSeq":"#.utf8)
    static let sendHead = Array(#"{"op":"send","id":"m"#.utf8)
    static let sendTo = Array(#"","to":""#.utf8)
    static let sendClientMessageID = Array(#"","clientMessageId":""#.utf8)
    static let sendBody = Array(#"","body":""#.utf8)
    static let sendTail = Array(#""}"#.utf8)
}
