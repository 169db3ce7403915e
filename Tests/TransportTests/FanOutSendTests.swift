import Foundation
import PresenceClient
import Synchronization
import Testing
@testable import Transport
import WebSocket

/// Fan-out sends (`EventLoop.sendText`, `Server.deliver`: one body, a prefix per recipient)
/// over real sockets, through the loop's outbound queue: each connection written to in a
/// loop turn gets one buffer, written once, and the buffers go back to a pool.
@Suite struct FanOutSendTests {
    /// Accepts WebSockets on `/echo` and remembers each connection that opened.
    final class RecordingHandler: ConnectionHandler {
        let opened = Mutex<[ConnectionID]>([])

        func handle(_ request: HTTPRequest, id: ConnectionID, on loop: EventLoop) -> HTTPResponse? { .text(404, "not found") }

        func route(_ head: HTTPRequestHead, remoteAddress: String) -> UpgradeDecision {
            .accept(policy: Handshake.Policy(allowedOrigins: []),
                    limits: MessageLimits(maxFrameSize: 1 << 20, maxMessageSize: 1 << 20, maxBufferedBytes: 64 << 20), route: 1)
        }

        func opened(_ id: ConnectionID, route: Int, subprotocol: String?, on loop: EventLoop) {
            opened.withLock { $0.append(id) }
        }

        func received(_ id: ConnectionID, opcode: Opcode, payload: UnsafeRawBufferPointer, on loop: EventLoop) {}
        func closed(_ id: ConnectionID, code: CloseCode, on loop: EventLoop) {}
    }

    static let prefix: Prefixer = { tag, buffer in buffer.append(contentsOf: Array("\(tag):".utf8)) }

    /// `count` upgraded clients and their connection IDs on a one-loop server.
    static func connect(_ count: Int) throws -> (RunningServer, RecordingHandler, [WebSocketClient], [ConnectionID]) {
        let handler = RecordingHandler()
        let s = try RunningServer(configure: { $0.loopCount = 1 }, handler: { _ in handler })
        var clients: [WebSocketClient] = []
        for _ in 0..<count {
            let c = try WebSocketClient(port: s.port)
            _ = try c.upgrade()
            clients.append(c)
        }
        let deadline = Date().addingTimeInterval(10)
        while handler.opened.withLock({ $0.count }) < count && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        let ids = handler.opened.withLock { $0 }
        try #require(ids.count == count)
        return (s, handler, clients, ids)
    }

    /// 1,500 messages to each of three connections queued in one loop turn (far more than
    /// one buffer's reserve, and than the 512 pieces one `writev` took in the queue before),
    /// then a second turn on the reused buffers: every client reads each message whole, in
    /// order, with its own prefix, and nothing of the first turn again.
    @Test func manyDeliveriesInOneTurnArriveWholeAndInOrder() throws {
        let (s, _, clients, ids) = try Self.connect(3)
        let bodies = [Array("alpha".utf8), Array(String(repeating: "b", count: 200).utf8), Array("γ-gamma".utf8)]
        let count = 1_500
        s.server.execute(on: ids[0]) { loop in
            for k in 0..<count {
                for id in ids { loop.sendText(id, tag: UInt64(k), prefix: Self.prefix, body: bodies[k % 3]) }
            }
        }
        for c in clients {
            for k in 0..<count {
                #expect(try c.receive() == .text("\(k):" + String(decoding: bodies[k % 3], as: UTF8.self)))
            }
        }
        s.server.deliver(body: Array("second".utf8), to: ids.map { ($0, 7) }, prefix: Self.prefix)
        for c in clients { #expect(try c.receive() == .text("7:second")) }
    }

    /// One `deliver` task to more recipients than the loop looks ahead (`deliveryLookahead`),
    /// each connection listed twice, with stale IDs between them (a generation the
    /// descriptor never had, a descriptor past the loop's table, a negative one, another
    /// loop's): each client gets its two messages in order and nothing else.
    @Test func aDeliveryListSkipsStaleRecipientsAndKeepsEachConnectionsOrder() throws {
        let (s, _, clients, ids) = try Self.connect(12)
        var recipients: [(ConnectionID, UInt64)] = []
        for round in 0..<2 {
            for (k, id) in ids.enumerated() {
                recipients.append((id, UInt64(100 * round + k)))
                recipients.append((ConnectionID(loop: 0, fd: id.fd, generation: id.generation &+ 1000), 999))
            }
            recipients.append((ConnectionID(loop: 0, fd: 1 << 20, generation: 1), 999))
            recipients.append((ConnectionID(loop: 0, fd: -1, generation: 1), 999))
            recipients.append((ConnectionID(loop: 1, fd: ids[0].fd, generation: ids[0].generation), 999))
        }
        #expect(recipients.count > 4 * EventLoop.deliveryLookahead)
        s.server.loops[0].enqueue(.deliver(body: Array("x".utf8), to: recipients, prefix: Self.prefix))
        s.server.deliver(body: Array("end".utf8), to: ids.map { ($0, 0) }, prefix: Self.prefix)
        for (k, c) in clients.enumerated() {
            #expect(try c.receive() == .text("\(k):x"))
            #expect(try c.receive() == .text("\(100 + k):x"))
            #expect(try c.receive() == .text("0:end"))
        }
    }

    /// A body larger than the pool keeps (its buffer is freed after the write) reaches
    /// every recipient whole, and a small delivery after it on the same connections too.
    @Test func aLargeBodyThenASmallOneArriveWhole() throws {
        let (s, _, clients, ids) = try Self.connect(2)
        let large = (0..<200_000).map { UInt8(ascii: "a") + UInt8($0 % 26) }
        s.server.deliver(body: large, to: ids.map { ($0, 1) }, prefix: Self.prefix)
        for c in clients { #expect(try c.receive() == .text("1:" + String(decoding: large, as: UTF8.self))) }
        s.server.deliver(body: Array("small".utf8), to: ids.map { ($0, 2) }, prefix: Self.prefix)
        for c in clients { #expect(try c.receive() == .text("2:small")) }
    }
}
