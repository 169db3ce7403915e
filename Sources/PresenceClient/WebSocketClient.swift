import Foundation
import Glibc
import Transport
import WebSocket

/// A blocking WebSocket client over a real loopback or network socket (plain or TLS).
///
/// Made for tests, tools and scripts: it sends exactly the bytes it is told to, and every
/// read has a timeout so nothing can hang. The load generator has its own epoll client.
public final class WebSocketClient {
    let fd: Int32
    public private(set) var tls: TLSSession?
    var inbox: [UInt8] = []
    public var reader = MessageReader(role: .client, maxFrameSize: 64 << 20, maxMessageSize: 64 << 20)

    /// Why a call failed.
    public enum Failure: Error, Equatable {
        /// Nothing arrived within the timeout.
        case timeout
        /// The server closed the connection (or refused it).
        case closed
        /// The TLS handshake or a TLS record failed.
        case tls
        /// The server broke RFC 6455.
        case protocolError(ProtocolError)
        /// The upgrade was answered with this HTTP status.
        case refused(Int)
    }

    /// - Parameters:
    ///   - host: an IP address literal to connect to.
    ///   - tlsContext: speak TLS; a verifying context (`TLSContext(clientTrusting:)`, the
    ///     only kind outside tests) refuses a certificate that is untrusted or not for
    ///     `serverName`.
    ///   - serverName: the name the server's certificate must carry; default `host`.
    ///   - receiveBuffer: a small SO_RCVBUF makes a client that stops reading
    ///     back up into the server quickly.
    public init(port: Int, host: String = "127.0.0.1", timeoutSeconds: Int = 5, tlsContext: TLSContext? = nil,
                serverName: String? = nil, receiveBuffer: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if var size = receiveBuffer { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &addr.sin_addr)
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        // Every property is set, so a throw from here on runs deinit, which closes the
        // descriptor: closing it here too would close a number another thread may
        // already have been given.
        guard rc == 0 else { throw Failure.closed }
        if let tlsContext {
            guard let session = TLSSession(context: tlsContext, serverName: serverName ?? host) else { throw Failure.tls }
            tls = session
            var raw = [UInt8](repeating: 0, count: 16384)
            while true {
                session.connect()
                try flushTLS()
                if session.isHandshakeDone { break }
                let n = raw.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, $0.count, 0) }
                guard n > 0 else { throw Failure.tls }
                guard raw.withUnsafeBytes({ session.feed(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }) else { throw Failure.tls }
            }
        }
    }

    /// Connects to a unix-domain socket (plain HTTP only): the operator listener's
    /// `admin-listen unix:/PATH`.
    public init(unixPath: String, timeoutSeconds: Int = 5) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(unixPath.utf8)
        // Thrown after every property is set: deinit closes the descriptor.
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else { throw Failure.closed }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else { throw Failure.closed }
    }

    deinit { Glibc.close(fd) }

    // MARK: raw bytes

    public func write(_ bytes: [UInt8]) throws {
        if let tls {
            guard bytes.withUnsafeBytes({ tls.write($0) }) else { throw Failure.tls }
            try flushTLS()
            return
        }
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure.closed }
            sent += n
        }
    }

    public func write(_ text: String) throws { try write(Array(text.utf8)) }

    private func flushTLS() throws {
        guard let tls else { return }
        var buf = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = buf.withUnsafeMutableBytes { tls.drain(into: $0) }
            if n == 0 { return }
            var sent = 0
            while sent < n {
                let m = buf.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, n - sent, Int32(MSG_NOSIGNAL)) }
                guard m > 0 else { throw Failure.closed }
                sent += m
            }
        }
    }

    /// Reads more bytes into `inbox`. - Returns: false on EOF.
    @discardableResult
    public func fill() throws -> Bool {
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK { throw Failure.timeout }
                if errno == ECONNRESET { return false }
                throw Failure.closed
            }
            if n == 0 { return false }
            guard let tls else {
                inbox += buf[0..<n]
                return true
            }
            guard buf.withUnsafeBytes({ tls.feed(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }) else { throw Failure.tls }
            var plain = [UInt8](repeating: 0, count: 65536)
            var got = false
            loop: while true {
                switch plain.withUnsafeMutableBytes({ tls.read(into: $0) }) {
                case .bytes(let m): inbox += plain[0..<m]; got = true
                case .needMore: break loop
                case .closed: return got
                case .failed: throw Failure.tls
                }
            }
            try flushTLS()
            if got { return true }
        }
    }

    /// Reads an HTTP response head (and a Content-Length body).
    public func readHTTPResponse() throws -> (status: Int, headers: [String: String], body: String) {
        while true {
            if let end = inbox.firstRange(of: Array("\r\n\r\n".utf8)) {
                let head = String(decoding: inbox[..<end.lowerBound], as: UTF8.self)
                var lines = head.components(separatedBy: "\r\n")
                let status = Int(lines.removeFirst().split(separator: " ")[1])!
                var headers: [String: String] = [:]
                for l in lines {
                    let parts = l.split(separator: ":", maxSplits: 1)
                    headers[parts[0].lowercased()] = parts[1].trimmingCharacters(in: .whitespaces)
                }
                let length = Int(headers["content-length"] ?? "0")!
                while inbox.count < end.upperBound + length { guard try fill() else { throw Failure.closed } }
                let body = String(decoding: inbox[end.upperBound..<(end.upperBound + length)], as: UTF8.self)
                inbox.removeFirst(end.upperBound + length)
                return (status, headers, body)
            }
            guard try fill() else { throw Failure.closed }
        }
    }

    // MARK: WebSocket

    public static let key = "dGhlIHNhbXBsZSBub25jZQ=="

    /// Upgrades at `path`. - Returns: the 101 response headers.
    @discardableResult
    public func upgrade(path: String = "/echo", extraHeaders: String = "") throws -> [String: String] {
        try write("GET \(path) HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: \(Self.key)\r\nSec-WebSocket-Version: 13\r\n\(extraHeaders)\r\n")
        let r = try readHTTPResponse()
        guard r.status == 101 else { throw Failure.refused(r.status) }
        return r.headers
    }

    public func send(_ opcode: Opcode, _ payload: [UInt8], fin: Bool = true) throws {
        var frame: [UInt8] = []
        payload.withUnsafeBytes {
            FrameEncoder.append(opcode: opcode, isFinal: fin, payload: $0, maskKey: Masking.key(1, 2, 3, 4), to: &frame)
        }
        try write(frame)
    }

    public func send(text: String) throws { try send(.text, Array(text.utf8)) }

    /// A message or control frame from the server.
    public enum Message: Equatable {
        case text(String), binary([UInt8]), ping([UInt8]), pong([UInt8]), close(UInt16?, String)
    }

    /// The next message or control frame from the server.
    public func receive() throws -> Message {
        while true {
            if !queued.isEmpty { return queued.removeFirst() }
            if !inbox.isEmpty {
                var bytes = inbox
                inbox = []
                do {
                    // The reader keeps the state of a frame split across reads.
                    try bytes.withUnsafeMutableBytes { raw in
                        try reader.read(raw) { event in
                            switch event {
                            case .text(let p): queued.append(.text(String(decoding: p, as: UTF8.self)))
                            case .binary(let p): queued.append(.binary(Array(p)))
                            case .ping(let p): queued.append(.ping(Array(p)))
                            case .pong(let p): queued.append(.pong(Array(p)))
                            case .close(let c, let r): queued.append(.close(c?.rawValue, String(decoding: r, as: UTF8.self)))
                            }
                            return true
                        }
                    }
                } catch let e as ProtocolError {
                    throw Failure.protocolError(e)
                }
                continue
            }
            guard try fill() else { throw Failure.closed }
        }
    }
    private var queued: [Message] = []

    /// Whether the server closed the TCP connection (EOF) within the timeout.
    public func serverClosedConnection() -> Bool {
        do {
            while try fill() { inbox.removeAll() }
            return true
        } catch Failure.timeout {
            return false
        } catch {
            return true
        }
    }
}
