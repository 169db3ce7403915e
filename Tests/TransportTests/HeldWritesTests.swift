import Foundation
import PresenceClient
import Synchronization
import Testing
@testable import Transport
import WebSocket

/// `ConnectionHandler.holdsWrites`: a loop holds an iteration's writes while its handler
/// says other threads will add to them, for at most `EventLoop.maxWriteHoldMilliseconds`.
@Suite struct HeldWritesTests {
    /// The echo handler, asking the loop to hold its writes while `isHolding` is set.
    final class HoldingHandler: ConnectionHandler {
        let echo = EchoHandler()
        let isHolding = Atomic<Bool>(true)
        let asked = Atomic<Int>(0)

        func handle(_ request: HTTPRequest, id: ConnectionID, on loop: EventLoop) -> HTTPResponse? {
            echo.handle(request, id: id, on: loop)
        }
        func route(_ head: HTTPRequestHead, remoteAddress: String) -> UpgradeDecision { echo.route(head, remoteAddress: remoteAddress) }
        func opened(_ id: ConnectionID, route: Int, subprotocol: String?, on loop: EventLoop) {
            echo.opened(id, route: route, subprotocol: subprotocol, on: loop)
        }
        func received(_ id: ConnectionID, opcode: Opcode, payload: UnsafeRawBufferPointer, on loop: EventLoop) {
            echo.received(id, opcode: opcode, payload: payload, on: loop)
        }
        func closed(_ id: ConnectionID, code: CloseCode, on loop: EventLoop) { echo.closed(id, code: code, on: loop) }
        func holdsWrites(on loop: EventLoop) -> Bool {
            asked.add(1, ordering: .relaxed)
            return isHolding.load(ordering: .relaxed)
        }
    }

    /// A handler that never stops holding delays each echo by about the cap, no more: the
    /// loop was asked, held (the echo took at least most of the cap) and wrote anyway.
    @Test func aHandlerThatKeepsHoldingDelaysWritesByAtMostTheCap() throws {
        let handler = HoldingHandler()
        let s = try RunningServer(configure: { $0.loopCount = 1 }, handler: { _ in handler })
        let c = try WebSocketClient(port: s.port)
        _ = try c.upgrade()
        for k in 0..<3 {
            let started = Date()
            try c.send(text: "m\(k)")
            #expect(try c.receive() == .text("m\(k)"))
            let elapsed = Date().timeIntervalSince(started)
            #expect(elapsed >= Double(EventLoop.maxWriteHoldMilliseconds - 2) / 1000, "held: \(elapsed) s")
            #expect(elapsed < 1, "\(elapsed) s")
        }
        #expect(handler.asked.load(ordering: .relaxed) > 0)
        // Once the handler stops holding, writes leave in the iteration that made them.
        handler.isHolding.store(false, ordering: .relaxed)
        try c.send(text: "free")
        #expect(try c.receive() == .text("free"))
    }
}
