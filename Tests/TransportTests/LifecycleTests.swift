import Foundation
import TLSTestSupport
import Testing
@testable import Transport
import PresenceClient
import WebSocket

/// Heartbeats, slow readers, TLS and shutdown over real sockets.
@Suite struct LifecycleTests {
    @Test func silentPeerIsPingedThenDropped() throws {
        let s = try RunningServer(configure: {
            $0.heartbeatIntervalMilliseconds = 200
            $0.heartbeatTimeoutMilliseconds = 200
        })
        let c = try WebSocketClient(port: s.port)
        try c.upgrade()
        #expect(try c.receive() == .ping([]))
        // Not answering: the server gives up and closes the socket.
        #expect(c.serverClosedConnection())
    }

    @Test func answeringPingsKeepsTheConnection() throws {
        let s = try RunningServer(configure: {
            $0.heartbeatIntervalMilliseconds = 150
            $0.heartbeatTimeoutMilliseconds = 150
        })
        let c = try WebSocketClient(port: s.port)
        try c.upgrade()
        for _ in 0..<3 {
            #expect(try c.receive() == .ping([]))
            try c.send(.pong, [])
        }
        try c.send(text: "still here")
        #expect(try c.receive() == .text("still here"))
    }

    @Test func slowReaderIsClosedWithoutSlowingOthers() throws {
        let s = try RunningServer(configure: { $0.maxBufferedBytes = 256 * 1024 }, handler: { _ in EchoHandler(limits: MessageLimits(maxFrameSize: 1 << 20, maxMessageSize: 1 << 20)) })
        let slow = try WebSocketClient(port: s.port, timeoutSeconds: 10, receiveBuffer: 16 * 1024)
        try slow.upgrade()
        let fast = try WebSocketClient(port: s.port)
        try fast.upgrade()
        // The slow client sends but never reads: its echoes pile up in the server.
        let chunk = [UInt8](repeating: 0x41, count: 64 * 1024)
        var sent = 0
        // Enough to fill the kernel buffers on both sides and the 256 KiB cap several times.
        while sent < 256 {
            try slow.send(.binary, chunk)
            sent += 1
            if sent % 16 == 0 {
                let started = ContinuousClock.now
                try fast.send(text: "ping \(sent)")
                #expect(try fast.receive() == .text("ping \(sent)"))
                #expect(ContinuousClock.now - started < .seconds(2))
            }
        }
        // Now read: everything queued arrives, then a Close 1013.
        var sawClose: WebSocketClient.Message?
        while sawClose == nil {
            let m = try slow.receive()
            if case .close = m { sawClose = m }
        }
        #expect(sawClose == .close(1013, "too slow: output buffer limit reached"))
        #expect(slow.serverClosedConnection())
    }

    @Test func tlsEchoWithACertificateMadeAtTestTime() throws {
        let cert = try TestCertificate()
        let s = try RunningServer(configure: {
            $0.endpoints.append(.init(host: "127.0.0.1", port: 0, isTLS: true))
            $0.tls = .init(certificatePath: cert.certificate, privateKeyPath: cert.key)
        })
        // Verified: the chain against the test CA, and 127.0.0.1 against the certificate.
        let c = try WebSocketClient(port: s.tlsPort, tlsContext: try TLSContext(clientTrusting: cert.ca))
        try c.upgrade()
        try c.send(text: "secret")
        #expect(try c.receive() == .text("secret"))
        let big = [UInt8](repeating: 7, count: 200_000)
        try c.send(.binary, big)
        #expect(try c.receive() == .binary(big))
        #expect(c.tls!.isHandshakeDone)
    }

    @Test func tlsWithAnUntrustedCertificateFailsTheHandshake() throws {
        let cert = try TestCertificate()
        let other = try TestCertificate()
        let s = try RunningServer(configure: {
            $0.endpoints.append(.init(host: "127.0.0.1", port: 0, isTLS: true))
            $0.tls = .init(certificatePath: cert.certificate, privateKeyPath: cert.key)
        })
        let context = try TLSContext(clientTrusting: other.ca)
        #expect(throws: WebSocketClient.Failure.tls) { try WebSocketClient(port: s.tlsPort, tlsContext: context) }
        // Positive control: the same server with the right CA.
        #expect(throws: Never.self) { try WebSocketClient(port: s.tlsPort, tlsContext: TLSContext(clientTrusting: cert.ca)) }
    }

    /// A certificate from a trusted CA but for another name is refused too: the client
    /// checks the host name (X509_VERIFY_PARAM_set1_host), not only the chain.
    @Test func tlsWithACertificateForAnotherHostFailsTheHandshake() throws {
        let cert = try TestCertificate()
        let s = try RunningServer(configure: {
            $0.endpoints.append(.init(host: "127.0.0.1", port: 0, isTLS: true))
            $0.tls = .init(certificatePath: cert.certificate, privateKeyPath: cert.key)
        })
        let context = try TLSContext(clientTrusting: cert.ca)
        #expect(throws: WebSocketClient.Failure.tls) {
            try WebSocketClient(port: s.tlsPort, tlsContext: context, serverName: "presence.example.org")
        }
        // Positive controls: the names the certificate does carry.
        let byName = try WebSocketClient(port: s.tlsPort, tlsContext: context, serverName: "localhost")
        try byName.upgrade()
        let byAddress = try WebSocketClient(port: s.tlsPort, tlsContext: context)
        try byAddress.upgrade()
    }

    /// The system CA store is the default trust: a test CA's certificate is not in it.
    @Test func tlsTrustsTheSystemStoreByDefault() throws {
        let cert = try TestCertificate()
        let s = try RunningServer(configure: {
            $0.endpoints.append(.init(host: "127.0.0.1", port: 0, isTLS: true))
            $0.tls = .init(certificatePath: cert.certificate, privateKeyPath: cert.key)
        })
        #expect(throws: WebSocketClient.Failure.tls) {
            try WebSocketClient(port: s.tlsPort, tlsContext: TLSContext(clientTrusting: nil), serverName: "localhost")
        }
        // Only the explicit test-only context skips the checks.
        let insecure = try WebSocketClient(port: s.tlsPort, tlsContext: TLSContext.insecureClientForTesting(), serverName: "wrong.example")
        try insecure.upgrade()
    }

    @Test func shutdownSendsGoingAwayToEveryClient() throws {
        let s = try RunningServer()
        let clients = try (0..<5).map { _ in try WebSocketClient(port: s.port) }
        for c in clients { try c.upgrade() }
        let done = DispatchSemaphore(value: 0)
        let server = s.server
        Thread { server.shutdown(); done.signal() }.start()
        for c in clients {
            guard case .close(let code, let reason) = try c.receive() else { Issue.record("no close"); continue }
            #expect(code == 1001)
            // "server shutting down; reconnect in N ms", N jittered within 1,000...5,000.
            let hint = reason.split(separator: " ").dropLast().last.flatMap { Int($0) }
            #expect(reason.hasPrefix("server shutting down; reconnect in "))
            #expect((1_000...5_000).contains(hint ?? 0))
            try c.send(.close, [0x03, 0xE9])
        }
        #expect(done.wait(timeout: .now() + 5) == .success)
        #expect(s.server.connectionCount == 0)
    }
}
