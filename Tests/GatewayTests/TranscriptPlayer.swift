import Foundation
import Glibc
@testable import Gateway
import Presence
@testable import PresenceClient
import WebSocket

// An interpreter of the transcript format in `Protocol/examples/README.md`: it plays one
// transcript's steps against a running gateway over real loopback sockets and throws at the
// first step the server does not answer as written. Transcripts are read with the gateway's
// own strict parser, so a server message with a duplicate member, or a boolean where a
// number is due, cannot slip through a lenient decoder.

/// One file of `Protocol/examples/`: the gateway settings it asks for and its steps.
struct Transcript {
    let name: String
    let settings: TranscriptSettings
    let steps: [JSONValue]

    init(contentsOf url: URL) throws {
        name = url.lastPathComponent
        let bytes = Array(try Data(contentsOf: url))
        guard case .array(let steps) = try JSONParser.parse(bytes) else {
            throw TranscriptFailure(place: name, "a transcript is a JSON array of steps")
        }
        self.steps = steps
        // README: a `gateway` step comes before every step except notes, because the
        // server starts before the first step runs.
        let firstReal = steps.firstIndex { $0.member("note") == nil } ?? steps.endIndex
        var settings = TranscriptSettings()
        for (index, step) in steps.enumerated() {
            guard let object = step.member("gateway") else { continue }
            guard index == firstReal else {
                throw TranscriptFailure(place: "\(name) step \(index + 1)", "a gateway step must come before the other steps")
            }
            settings = try TranscriptSettings(object, place: "\(name) step \(index + 1)")
        }
        self.settings = settings
    }
}

/// The server configuration a transcript asks for in its `{"gateway": {…}}` step. Anything
/// not named keeps the documented server default.
struct TranscriptSettings {
    var debounce: Duration?
    var disconnectGrace: Duration?
    var ringTimeout: Duration?
    var idleAfter: Duration?
    var subscribers: [String: GatewayConfiguration.Subscriber] = [:]

    init() {}

    init(_ object: JSONValue, place: String) throws {
        guard case .object(let members) = object else { throw TranscriptFailure(place: place, "gateway must be an object") }
        func milliseconds(_ value: JSONValue) throws -> Duration {
            guard let ms = value.integer, ms >= 0 else { throw TranscriptFailure(place: place, "\(value.jsonText) is not milliseconds") }
            return .milliseconds(ms)
        }
        for (key, value) in members {
            switch key {
            case "debounceMilliseconds": debounce = try milliseconds(value)
            case "disconnectGraceMilliseconds": disconnectGrace = try milliseconds(value)
            case "ringTimeoutMilliseconds": ringTimeout = try milliseconds(value)
            case "idleAfterMilliseconds": idleAfter = try milliseconds(value)
            case "subscribers":
                guard case .array(let items) = value else { throw TranscriptFailure(place: place, "subscribers must be an array") }
                for item in items {
                    guard let key = item.member("key")?.string, let name = item.member("name")?.string,
                          case .array(let allowed)? = item.member("allowed") else {
                        throw TranscriptFailure(place: place, "a subscriber is {\"key\",\"name\",\"allowed\":[users]}")
                    }
                    let users = try allowed.map { value in
                        guard let user = value.string.flatMap(UserID.init(email:)) else {
                            throw TranscriptFailure(place: place, "\(value.jsonText) is not a user")
                        }
                        return user
                    }
                    subscribers[key] = .init(name: name, allowed: Set(users))
                }
            default:
                throw TranscriptFailure(place: place, "unknown gateway setting \(key)")
            }
        }
    }

    /// Puts the server back on its documented defaults (the test fixture shortens some),
    /// then applies what the transcript asked for.
    func apply(to config: inout GatewayConfiguration) {
        let defaults = PresenceConfiguration()
        config.presence.debounce = debounce ?? defaults.debounce
        config.presence.disconnectGrace = disconnectGrace ?? defaults.disconnectGrace
        config.presence.ringTimeout = ringTimeout ?? defaults.ringTimeout
        config.presence.idleAfter = idleAfter ?? defaults.idleAfter
        config.subscribers = subscribers
    }
}

/// Where a transcript and the server part ways.
struct TranscriptFailure: Error, CustomStringConvertible {
    var place: String
    var detail: String
    init(place: String, _ detail: String) {
        self.place = place
        self.detail = detail
    }
    var description: String { "\(place): \(detail)" }
}

/// Plays a transcript's steps in order against the gateway on `port`.
final class TranscriptPlayer {
    /// How long an `expect` waits for its message (README: "Wait up to 5 s").
    static let expectTimeoutMilliseconds = 5000

    private let transcript: Transcript
    private let port: Int
    private var clients: [String: Client] = [:]
    /// `$name` bindings; global to the transcript.
    private var bindings: [String: JSONValue] = [:]
    private var place = ""

    /// One named client: its connection (nil when closed or dropped) and what the
    /// placeholders need to know about its session.
    private final class Client {
        var socket: WebSocketClient?
        /// The highest `seq` received since the last sign-in; a resume continues it.
        var lastSeq = 0
        /// Ops sent and not yet answered, by request ID, to notice a `signIn` reply.
        var opsInFlight: [String: String] = [:]
    }

    init(_ transcript: Transcript, port: Int) {
        self.transcript = transcript
        self.port = port
    }

    func play() throws {
        for (index, step) in transcript.steps.enumerated() {
            place = "\(transcript.name) step \(index + 1)"
            try run(step)
        }
    }

    private func fail(_ detail: String) -> TranscriptFailure { TranscriptFailure(place: place, detail) }

    // MARK: - Steps

    private func run(_ step: JSONValue) throws {
        if step.member("note") != nil || step.member("gateway") != nil { return }
        if let wait = step.member("wait") {
            guard let ms = wait.integer, ms >= 0 else { throw fail("wait needs milliseconds") }
            Thread.sleep(forTimeInterval: Double(ms) / 1000)
            return
        }
        if let request = step.member("http") {
            try http(request, expectStatus: step.member("expectStatus"), expectBody: step.member("expectBody"))
            return
        }
        guard let name = step.member("client")?.string else { throw fail("a step with no client: \(step.jsonText)") }
        let client = clients[name] ?? Client()
        clients[name] = client
        if let options = step.member("connect") {
            try connect(client, options)
        } else if let message = step.member("send") {
            let text = try substituted(message).jsonText
            if let op = message.member("op")?.string, let id = message.member("id")?.string { client.opsInFlight[id] = op }
            try socket(of: client, name).send(text: text)
        } else if let text = step.member("sendText")?.string {
            try socket(of: client, name).send(text: text)
        } else if let base64 = step.member("sendBinary")?.string {
            guard let data = Data(base64Encoded: base64) else { throw fail("sendBinary is not base64") }
            try socket(of: client, name).send(.binary, Array(data))
        } else if let expected = step.member("expect") {
            try expect(expected, on: client, name)
        } else if let ms = step.member("expectNothing")?.integer {
            try expectNothing(for: ms, on: client, name)
        } else if let close = step.member("expectClose") {
            try expectClose(code: close.member("code")?.integer, on: client, name)
        } else if let close = step.member("close") {
            try closeCleanly(client, name, code: close.member("code")?.integer ?? 1000)
        } else if step.member("drop") != nil {
            drop(client)
        } else {
            throw fail("unknown step \(step.jsonText)")
        }
    }

    private func connect(_ client: Client, _ options: JSONValue) throws {
        drop(client)
        let socket = try WebSocketClient(port: port, timeoutSeconds: Self.expectTimeoutMilliseconds / 1000)
        var headers = ""
        let subprotocol = options.member("subprotocol")?.string ?? WireProtocol.subprotocol
        if !subprotocol.isEmpty { headers += "Sec-WebSocket-Protocol: \(subprotocol)\r\n" }
        if let origin = options.member("origin")?.string { headers += "Origin: \(origin)\r\n" }
        do {
            try socket.upgrade(path: options.member("path")?.string ?? "/ws", extraHeaders: headers)
        } catch WebSocketClient.Failure.refused(let status) {
            throw fail("the upgrade was refused with \(status)")
        }
        client.socket = socket
        client.opsInFlight = [:]
    }

    private func socket(of client: Client, _ name: String) throws -> WebSocketClient {
        guard let socket = client.socket else { throw fail("\(name) is not connected") }
        return socket
    }

    /// Cuts the TCP connection without a Close frame (README: `drop`).
    private func drop(_ client: Client) {
        if let socket = client.socket { shutdown(socket.fd, Int32(SHUT_RDWR)) }
        client.socket = nil
    }

    private func closeCleanly(_ client: Client, _ name: String, code: Int) throws {
        let socket = try socket(of: client, name)
        try socket.send(.close, [UInt8(code >> 8), UInt8(code & 0xFF)])
        // Messages already on their way are dropped; the server's Close (or EOF) ends it.
        let deadline = Date().addingTimeInterval(Double(Self.expectTimeoutMilliseconds) / 1000)
        while Date() < deadline {
            guard let message = try? socket.receive() else { break }
            if case .close = message { break }
        }
        client.socket = nil
    }

    // MARK: - Receiving

    /// The next text message or Close frame within `milliseconds`; nil on timeout. Pings
    /// are answered on the way, as any client must.
    private func receive(on socket: WebSocketClient, within milliseconds: Int) throws -> WebSocketClient.Message? {
        let deadline = Date().addingTimeInterval(Double(milliseconds) / 1000)
        defer { setReceiveTimeout(socket, milliseconds: Self.expectTimeoutMilliseconds) }
        while true {
            let left = Int(deadline.timeIntervalSinceNow * 1000)
            guard left > 0 else { return nil }
            setReceiveTimeout(socket, milliseconds: left)
            let message: WebSocketClient.Message
            do {
                message = try socket.receive()
            } catch WebSocketClient.Failure.timeout {
                return nil
            } catch {
                throw fail("the connection failed: \(error)")
            }
            switch message {
            case .ping(let payload): try socket.send(.pong, payload)
            case .pong: continue
            case .binary: throw fail("the server sent a binary frame")
            case .text, .close: return message
            }
        }
    }

    private func setReceiveTimeout(_ socket: WebSocketClient, milliseconds: Int) {
        var tv = timeval(tv_sec: milliseconds / 1000, tv_usec: Int((milliseconds % 1000) * 1000))
        setsockopt(socket.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    private func expect(_ expected: JSONValue, on client: Client, _ name: String) throws {
        let socket = try socket(of: client, name)
        guard let message = try receive(on: socket, within: Self.expectTimeoutMilliseconds) else {
            throw fail("\(name) received nothing within \(Self.expectTimeoutMilliseconds) ms; expected \(expected.jsonText)")
        }
        guard case .text(let text) = message else {
            throw fail("\(name) got \(message) instead of \(expected.jsonText)")
        }
        let actual: JSONValue
        do { actual = try JSONParser.parse(Array(text.utf8)) } catch { throw fail("\(name) got invalid JSON \(text): \(error)") }
        // `$seq` is one more than the last seq this client saw, fixed before matching.
        var expected = expected
        if case .object(var members) = expected, let i = members.firstIndex(where: { $0.key == "seq" }),
           members[i].value == .string("$seq") {
            members[i].value = .number(String(client.lastSeq + 1))
            expected = .object(members)
        }
        var problems: [String] = []
        match(expected, actual, at: "", problems: &problems)
        if let seq = actual.member("seq")?.integer { client.lastSeq = seq }
        if actual.member("seq") == nil, let id = actual.member("id")?.string, let op = client.opsInFlight.removeValue(forKey: id),
           op == "signIn", actual.member("type") == .string("ok") {
            client.lastSeq = 0
        }
        guard problems.isEmpty else {
            throw fail("\(name) expected \(expected.jsonText)\n  got \(text)\n  " + problems.joined(separator: "\n  "))
        }
    }

    private func expectNothing(for milliseconds: Int, on client: Client, _ name: String) throws {
        let socket = try socket(of: client, name)
        if let message = try receive(on: socket, within: milliseconds) {
            throw fail("\(name) expected nothing for \(milliseconds) ms, got \(message)")
        }
    }

    private func expectClose(code: Int?, on client: Client, _ name: String) throws {
        let socket = try socket(of: client, name)
        guard let message = try receive(on: socket, within: Self.expectTimeoutMilliseconds) else {
            throw fail("\(name) was not closed within \(Self.expectTimeoutMilliseconds) ms")
        }
        guard case .close(let got, _) = message else { throw fail("\(name) expected a Close, got \(message)") }
        guard code == nil || got.map(Int.init) == code else {
            throw fail("\(name) was closed with \(got.map(String.init) ?? "no code"), expected \(code!)")
        }
        // Finish the close handshake (RFC 6455 §5.5.1) and let the socket go.
        try? socket.send(.close, got.map { [UInt8($0 >> 8), UInt8($0 & 0xFF)] } ?? [])
        client.socket = nil
    }

    // MARK: - HTTP

    private func http(_ request: JSONValue, expectStatus: JSONValue?, expectBody: JSONValue?) throws {
        guard let method = request.member("method")?.string, let path = request.member("path")?.string else {
            throw fail("http needs method and path")
        }
        var body: [UInt8] = []
        switch try request.member("body").map({ try substituted($0) }) {
        case .string(let text)?: body = Array(text.utf8)
        case let value?: body = Array(value.jsonText.utf8)
        case nil: break
        }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
        if let type = request.member("contentType")?.string { head += "Content-Type: \(type)\r\n" }
        let socket = try WebSocketClient(port: port, timeoutSeconds: Self.expectTimeoutMilliseconds / 1000)
        try socket.write(head + "\r\n")
        try socket.write(body)
        let response = try socket.readHTTPResponse()
        if let status = expectStatus?.integer, response.status != status {
            throw fail("HTTP \(method) \(path) answered \(response.status), expected \(status): \(response.body)")
        }
        if let expectBody {
            let actual: JSONValue
            do { actual = try JSONParser.parse(Array(response.body.utf8)) } catch { throw fail("HTTP body is not JSON: \(response.body)") }
            var problems: [String] = []
            match(expectBody, actual, at: "", problems: &problems)
            guard problems.isEmpty else { throw fail("HTTP body \(response.body)\n  " + problems.joined(separator: "\n  ")) }
        }
    }

    // MARK: - Placeholders and matching

    /// A `send` or `http` body with its placeholders replaced (README: "In send / http").
    private func substituted(_ value: JSONValue) throws -> JSONValue {
        switch value {
        case .string(let text) where text.hasPrefix("$lastSeq:"):
            let name = String(text.dropFirst("$lastSeq:".count))
            guard let client = clients[name] else { throw fail("\(text): no client \(name)") }
            return .number(String(client.lastSeq))
        case .string(let text) where text.hasPrefix("$"):
            guard let bound = bindings[String(text.dropFirst())] else { throw fail("\(text) is not bound (a transcript bug)") }
            return bound
        case .array(let items):
            return .array(try items.map(substituted))
        case .object(let members):
            return .object(try members.map { ($0.key, try substituted($0.value)) })
        default:
            return value
        }
    }

    /// Appends every way `actual` differs from `expected` (README "Matching"), binding
    /// `$name` placeholders on the way.
    private func match(_ expected: JSONValue, _ actual: JSONValue, at path: String, problems: inout [String]) {
        switch expected {
        case .string("$any"), .string("$optional"):
            return
        case .string("$time"):
            if actual.integer == nil { problems.append("\(path): \(actual.jsonText) is not a time in ms") }
        case .string(let text) where text.hasPrefix("$"):
            let name = String(text.dropFirst())
            guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }), !name.isEmpty else {
                problems.append("\(path): \(text) is no placeholder an expect may use")
                return
            }
            if let bound = bindings[name] {
                if !bound.sameValue(as: actual) { problems.append("\(path): \(actual.jsonText) but \(text) is \(bound.jsonText)") }
            } else {
                bindings[name] = actual
            }
        case .object(let members):
            guard case .object(let got) = actual else { problems.append("\(path): expected an object, got \(actual.jsonText)"); return }
            for (key, value) in members {
                if let actualValue = got.first(where: { $0.key == key })?.value {
                    match(value, actualValue, at: "\(path).\(key)", problems: &problems)
                } else if value != .string("$optional") {
                    problems.append("\(path).\(key): missing")
                }
            }
            for (key, _) in got where !members.contains(where: { $0.key == key }) {
                problems.append("\(path).\(key): not expected")
            }
        case .array(let items):
            guard case .array(let got) = actual, got.count == items.count else {
                problems.append("\(path): expected \(items.count) items, got \(actual.jsonText)")
                return
            }
            for (i, (e, a)) in zip(items, got).enumerated() { match(e, a, at: "\(path)[\(i)]", problems: &problems) }
        default:
            if !expected.sameValue(as: actual) { problems.append("\(path): expected \(expected.jsonText), got \(actual.jsonText)") }
        }
    }
}

extension JSONValue {
    /// The value of an object's member.
    func member(_ name: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == name }?.value
    }

    var string: String? {
        if case .string(let text) = self { text } else { nil }
    }

    /// An integer written without fraction or exponent.
    var integer: Int? {
        if case .number(let text) = self { Int(text) } else { nil }
    }

    /// Equal as JSON values: numbers by value, objects regardless of member order.
    func sameValue(as other: JSONValue) -> Bool {
        switch (self, other) {
        case (.number(let a), .number(let b)): a == b || (Double(a) != nil && Double(a) == Double(b))
        case (.array(let a), .array(let b)): a.count == b.count && zip(a, b).allSatisfy { $0.sameValue(as: $1) }
        case (.object(let a), .object(let b)):
            a.count == b.count && a.allSatisfy { m in b.first { $0.key == m.key }.map { m.value.sameValue(as: $0.value) } ?? false }
        default: self == other
        }
    }
}
