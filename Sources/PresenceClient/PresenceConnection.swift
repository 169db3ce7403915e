import Foundation
import WebSocket

/// A client of the JSON protocol (Protocol/README.md) over `WebSocketClient`: send ops as
/// dictionaries, read replies and events as dictionaries.
public final class PresenceConnection {
    public let socket: WebSocketClient
    /// Every server message read so far, as raw text (for byte-level comparisons).
    public private(set) var transcript: [String] = []
    private var nextID = 0

    /// Connects to `/ws` with subprotocol `presence.v1` and reads the `hello`.
    public init(port: Int, host: String = "127.0.0.1", timeoutSeconds: Int = 5, extraHeaders: String = "") throws {
        socket = try WebSocketClient(port: port, host: host, timeoutSeconds: timeoutSeconds)
        try socket.upgrade(path: "/ws", extraHeaders: "Sec-WebSocket-Protocol: presence.v1\r\n" + extraHeaders)
        hello = try Self.decode(try socket.receive(), into: &transcript)
    }

    /// The server's greeting.
    public private(set) var hello: [String: Any] = [:]

    /// Sends `{"op": op, "id": <fresh>, ...fields}`. - Returns: the request ID.
    @discardableResult
    public func send(_ op: String, _ fields: [String: Any] = [:]) throws -> String {
        nextID += 1
        let id = "r\(nextID)"
        var object = fields
        object["op"] = op
        object["id"] = id
        try socket.send(text: String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
        return id
    }

    /// The next text message, decoded. Close frames throw `Closed`.
    public func next() throws -> [String: Any] {
        while true {
            let message = try socket.receive()
            if case .ping(let payload) = message {
                try socket.send(.pong, payload)  // keep the heartbeat happy
                continue
            }
            if case .pong = message { continue }
            return try Self.decode(message, into: &transcript)
        }
    }

    /// Reads until the reply to `id` and returns it; events read on the way are kept in
    /// `events` in order.
    public func reply(to id: String) throws -> [String: Any] {
        while true {
            let m = try next()
            if m["id"] as? String == id, m["seq"] == nil { return m }
            events.append(m)
        }
    }

    /// Events read while waiting for replies, oldest first.
    public var events: [[String: Any]] = []

    /// The next event of `type` (from `events` first), skipping others of no interest.
    public func event(_ type: String, where match: ([String: Any]) -> Bool = { _ in true }) throws -> [String: Any] {
        if let i = events.firstIndex(where: { $0["type"] as? String == type && match($0) }) {
            return events.remove(at: i)
        }
        while true {
            let m = try next()
            if m["type"] as? String == type, match(m) { return m }
            events.append(m)
        }
    }

    /// Sends an op and returns its reply.
    public func call(_ op: String, _ fields: [String: Any] = [:]) throws -> [String: Any] {
        try reply(to: try send(op, fields))
    }

    /// A Close frame arrived: its code and reason.
    public struct Closed: Error, Equatable {
        public var code: UInt16?
        public var reason: String
    }

    static func decode(_ message: WebSocketClient.Message, into transcript: inout [String]) throws -> [String: Any] {
        switch message {
        case .text(let text):
            transcript.append(text)
            guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                throw WebSocketClient.Failure.closed
            }
            return object
        case .close(let code, let reason):
            throw Closed(code: code, reason: reason)
        default:
            return [:]
        }
    }
}
