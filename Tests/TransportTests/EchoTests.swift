import Foundation
import Testing
@testable import Transport
import PresenceClient
import WebSocket

/// The echo route over a real loopback socket.
@Suite struct EchoTests {
    @Test func textAndBinaryMessagesComeBackUnchanged() throws {
        let s = try RunningServer()
        let c = try WebSocketClient(port: s.port)
        try c.upgrade()
        try c.send(text: "hello")
        #expect(try c.receive() == .text("hello"))
        let blob = (0..<100_000).map { UInt8($0 & 0xFF) }
        try c.send(.binary, blob)
        #expect(try c.receive() == .binary(blob))
    }

    @Test func fragmentedMessageIsEchoedWhole() throws {
        let s = try RunningServer()
        let c = try WebSocketClient(port: s.port)
        try c.upgrade()
        try c.send(.text, Array("frag".utf8), fin: false)
        try c.send(.ping, [9])
        try c.send(.continuation, Array("ment".utf8))
        #expect(try c.receive() == .pong([9]))
        #expect(try c.receive() == .text("fragment"))
    }

    @Test func manyMessagesInOneWriteAreAllAnswered() throws {
        let s = try RunningServer()
        let c = try WebSocketClient(port: s.port)
        try c.upgrade()
        var batch: [UInt8] = []
        for i in 0..<500 {
            Array("m\(i)".utf8).withUnsafeBytes { FrameEncoder.append(opcode: .text, payload: $0, maskKey: 0x1234_5678, to: &batch) }
        }
        try c.write(batch)
        for i in 0..<500 { #expect(try c.receive() == .text("m\(i)")) }
    }

    @Test func requestBytesAfterTheHandshakeInTheSameWriteAreFrames() throws {
        let s = try RunningServer()
        let c = try WebSocketClient(port: s.port)
        var frame: [UInt8] = []
        Array("early".utf8).withUnsafeBytes { FrameEncoder.append(opcode: .text, payload: $0, maskKey: 7, to: &frame) }
        try c.write(Array(("GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: \(WebSocketClient.key)\r\nSec-WebSocket-Version: 13\r\n\r\n").utf8) + frame)
        #expect(try c.readHTTPResponse().status == 101)
        #expect(try c.receive() == .text("early"))
    }

    @Test func compressedEchoWhenDeflateIsNegotiated() throws {
        let s = try RunningServer()
        let c = try WebSocketClient(port: s.port)
        let headers = try c.upgrade(extraHeaders: "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover\r\n")
        #expect(headers["sec-websocket-extensions"] == "permessage-deflate; server_no_context_takeover; client_no_context_takeover")
        c.reader.inflation = .shared(Inflater())
        let text = String(repeating: "presence ", count: 500)
        try c.send(text: text)
        #expect(try c.receive() == .text(text))
    }

    @Test func clientCloseIsEchoedAndTheServerClosesTCP() throws {
        let s = try RunningServer()
        let c = try WebSocketClient(port: s.port)
        try c.upgrade()
        try c.send(.close, [0x03, 0xE8] + Array("done".utf8))
        #expect(try c.receive() == .close(1000, ""))
        #expect(c.serverClosedConnection())
    }

    @Test func protocolViolationGetsCloseWithItsCode() throws {
        let s = try RunningServer()
        let c = try WebSocketClient(port: s.port)
        try c.upgrade()
        try c.write([0x81, 0x05] + Array("plain".utf8))  // unmasked client frame
        #expect(try c.receive() == .close(1002, "client frames must be masked"))
        #expect(c.serverClosedConnection())
    }

    @Test func invalidUTF8GetsClose1007() throws {
        let s = try RunningServer()
        let c = try WebSocketClient(port: s.port)
        try c.upgrade()
        try c.send(.text, [0xCE, 0xBA, 0xED, 0xA0, 0x80])
        #expect(try c.receive() == .close(1007, "invalid UTF-8"))
    }

    @Test func messageOverTheRouteLimitGetsClose1009() throws {
        let s = try RunningServer(handler: { _ in EchoHandler(limits: MessageLimits(maxFrameSize: 1000, maxMessageSize: 1000)) })
        let c = try WebSocketClient(port: s.port)
        try c.upgrade()
        try c.send(.binary, Array(repeating: 1, count: 1001))
        #expect(try c.receive() == .close(1009, "frame too large"))
    }

    /// A client that is still sending when the server closes with 1009 must still read the
    /// Close: the server half-closes and discards input until the client closes (a
    /// lingering close). Closing the socket at once, with unread input, resets the
    /// connection, and the client's next send fails before it ever reads why.
    @Test func clientStillSendingAfterAnOversizeFrameReadsClose1009() throws {
        let s = try RunningServer(handler: { _ in EchoHandler(limits: MessageLimits(maxFrameSize: 1000, maxMessageSize: 1000)) })
        let c = try WebSocketClient(port: s.port)
        try c.upgrade()
        // One 16 MiB frame, sent in full before reading, as a simple client does: far more
        // than the socket buffers hold, so the server has closed long before it is all sent.
        let payload = [UInt8](repeating: 7, count: 16 << 20)
        try c.send(.binary, payload)
        #expect(try c.receive() == .close(1009, "frame too large"))
        // The server has finished its side (FIN) and lets the client close the rest.
        try c.send(.close, [0x03, 0xF1])
        #expect(c.serverClosedConnection())
    }

    /// Positive control of the lingering close's bound: a client that keeps the
    /// connection open after the Close is cut off after the close timeout.
    @Test func lingeringCloseEndsAfterTheCloseTimeout() throws {
        let s = try RunningServer(configure: { $0.closeTimeoutMilliseconds = 300 },
                                  handler: { _ in EchoHandler(limits: MessageLimits(maxFrameSize: 1000, maxMessageSize: 1000)) })
        let c = try WebSocketClient(port: s.port)
        try c.upgrade()
        try c.send(.binary, Array(repeating: 1, count: 1001))
        #expect(try c.receive() == .close(1009, "frame too large"))
        // Lingering: the server still holds the socket and swallows what the client sends.
        #expect(s.server.connectionCount == 1)
        try c.write([UInt8](repeating: 0, count: 4096))
        var waited = 0
        while s.server.connectionCount > 0, waited < 60 { Thread.sleep(forTimeInterval: 0.05); waited += 1 }
        #expect(s.server.connectionCount == 0)
    }
}

