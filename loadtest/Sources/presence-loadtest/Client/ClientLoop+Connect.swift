import CPosix
import Glibc
import WebSocket

/// Connecting: non-blocking connect from a spread source address, then the opening
/// handshake of RFC 6455 §4.1.
extension ClientLoop {
    /// Linux's `IP_BIND_ADDRESS_NO_PORT` (linux/in.h), which Glibc does not export.
    static let ipBindAddressNoPort: Int32 = 24
    static let maxConnectAttempts: UInt8 = 4

    /// Starts connects while fewer than `connectConcurrency` are under way.
    func startConnects() {
        while nextToConnect < plan.count && connectingCount < plan.connectConcurrency {
            let i = Int32(nextToConnect)
            nextToConnect += 1
            // Only the storm's reconnect skips slots (those that never signed in).
            guard slots[Int(i)].phase == .unused else { continue }
            connectingCount += 1
            startConnect(i)
        }
    }

    func startConnect(_ i: Int32) {
        var slot = slots[Int(i)]
        slot.attempts += 1
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return failConnect(i, "socket: \(String(cString: strerror(errno)))", isHandshake: false) }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, Int32(IPPROTO_IP), Self.ipBindAddressNoPort, &one, socklen_t(MemoryLayout<Int32>.size))
        if slot.role == .slow {
            // A small receive window, set before connect so the window scale agrees: the
            // server's echoes back up into its own output buffer after a few KiB instead of
            // after megabytes of kernel buffers, so fewer large messages reach its cap.
            var window: Int32 = 16 * 1024
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &window, socklen_t(MemoryLayout<Int32>.size))
        }
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_addr = sources.address(for: slot.globalIndex)
        var remote = sockaddr_in()
        remote.sin_family = sa_family_t(AF_INET)
        let url = url(of: i)
        remote.sin_addr = url.address
        remote.sin_port = url.port.bigEndian
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        let connected = bound != 0 ? -1 : withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        let error = connected == 0 ? 0 : errno
        slot.fd = fd
        slots[Int(i)] = slot
        if connected != 0 && error != EINPROGRESS {
            close(fd)
            slots[Int(i)].fd = -1
            if (error == EADDRNOTAVAIL || error == EADDRINUSE) && slot.attempts < Self.maxConnectAttempts {
                // Ports of this source address ran out: move every later connection up one address.
                sources.shift += 1
                return startConnect(i)
            }
            return failConnect(i, "connect: \(String(cString: strerror(error)))", isHandshake: false)
        }
        slots[Int(i)].phase = .connecting
        _ = cposix_epoll_ctl(epfd, EPOLL_CTL_ADD, fd, EPOLLOUT.rawValue | EPOLLIN.rawValue, UInt64(i))
    }

    /// The socket became writable: the connect finished, one way or the other.
    func finishConnect(_ i: Int32) {
        let fd = slots[Int(i)].fd
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        guard error == 0 else {
            return failConnect(i, "connect: \(String(cString: strerror(error)))", isHandshake: false)
        }
        let request = Array(handshakeRequest(key: handshakeKey(i), url: url(of: i)).utf8)
        let written = request.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        // A request of ~250 bytes always fits an empty socket buffer.
        guard written == request.count else { return failConnect(i, "handshake request not written", isHandshake: false) }
        slots[Int(i)].phase = .handshaking
        _ = cposix_epoll_ctl(epfd, EPOLL_CTL_MOD, fd, EPOLLIN.rawValue, UInt64(i))
    }

    /// The `Sec-WebSocket-Key` of a connection: 16 seeded bytes in base64 (§4.1).
    func handshakeKey(_ i: Int32) -> String {
        var g = SeededGenerator(seed: plan.seed ^ (UInt64(slots[Int(i)].globalIndex) &* 0x9E37_79B9))
        let bytes = (0..<16).map { _ in UInt8(truncatingIfNeeded: g.next()) }
        return Base64.encode(bytes)
    }

    /// The server of connection `i`: with several URLs (a cluster), connection n of the
    /// run goes to URL n mod count.
    func url(of i: Int32) -> WebSocketURL {
        plan.urls.count == 1 ? plan.urls[0] : plan.urls[(plan.firstIndex + Int(i)) % plan.urls.count]
    }

    func handshakeRequest(key: String, url: WebSocketURL) -> String {
        var s = "GET \(url.path) HTTP/1.1\r\nHost: \(url.hostHeader)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        s += "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n"
        if plan.offersDeflate { s += "Sec-WebSocket-Extensions: \(PerMessageDeflate.clientOffer)\r\n" }
        if let subprotocol = plan.subprotocol { s += "Sec-WebSocket-Protocol: \(subprotocol)\r\n" }
        return s + "\r\n"
    }

    /// Gathers the response head; once complete, checks it (§4.1 steps 1-6) and hands any
    /// bytes after it to the frame reader.
    func continueHandshake(_ i: Int32, _ bytes: UnsafeMutableRawBufferPointer) {
        slots[Int(i)].handshake.append(contentsOf: bytes)
        let head = slots[Int(i)].handshake
        guard let end = Self.headEnd(head) else {
            if head.count > 16 * 1024 { failConnect(i, "handshake response head over 16 KiB", isHandshake: true) }
            return
        }
        let text = String(decoding: head[0..<end], as: UTF8.self)
        let lines = text.split(separator: "\r\n", omittingEmptySubsequences: true)
        guard let status = lines.first, status.hasPrefix("HTTP/1.1 101") else {
            return failConnect(i, "handshake answered \(lines.first ?? "nothing")", isHandshake: true)
        }
        var accept: Substring?, extensions: Substring?, subprotocol: Substring?
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].drop { $0 == " " }
            if name == "sec-websocket-accept" { accept = value }
            if name == "sec-websocket-extensions" { extensions = value }
            if name == "sec-websocket-protocol" { subprotocol = value }
        }
        guard let accept, accept == Handshake.acceptValue(forKey: handshakeKey(i)) else {
            return failConnect(i, "wrong or missing Sec-WebSocket-Accept", isHandshake: true)
        }
        // RFC 6455 §4.1: a subprotocol the client did not offer fails the connection, and
        // presence.v1 is required on /ws.
        if subprotocol.map(String.init) != plan.subprotocol {
            return failConnect(i, "Sec-WebSocket-Protocol \(subprotocol.map { "'\($0)'" } ?? "missing"), expected \(plan.subprotocol ?? "none")", isHandshake: true)
        }
        if let extensions {
            guard plan.offersDeflate, let p = PerMessageDeflate.clientAccept(response: String(extensions)) else {
                return failConnect(i, "unexpected Sec-WebSocket-Extensions: \(extensions)", isHandshake: true)
            }
            slots[Int(i)].isCompressed = true
            // Without server_no_context_takeover the server's window spans messages, so this
            // connection needs an inflater of its own.
            readers[Int(i)].inflation = p.serverNoContextTakeover ? .shared(inflater) : .own(nil)
        }
        slots[Int(i)].handshake = []
        slots[Int(i)].phase = .open
        connectingCount -= 1
        if !isReconnecting {
            result.opened += 1
            result.connectFinished = now
        }
        if slots[Int(i)].role == .user { beginSession(i) }
        let rest = head.count - end - 4
        if rest > 0 {
            // Frames sent right behind the 101: copy them to the read buffer's end and read.
            let tail = UnsafeMutableRawBufferPointer(rebasing: readBuffer[(readBuffer.count - rest)...])
            head.withUnsafeBytes { tail.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[(end + 4)...])) }
            readFrames(i, tail)
        }
    }

    /// The index of "\r\n\r\n" in `bytes`, if present.
    static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for k in 0...(bytes.count - 4) where bytes[k] == 13 && bytes[k + 1] == 10 && bytes[k + 2] == 13 && bytes[k + 3] == 10 {
            return k
        }
        return nil
    }

    func failConnect(_ i: Int32, _ why: String, isHandshake: Bool) {
        if isHandshake { result.handshakeFailures += 1 } else { result.connectFailures += 1 }
        result.note(why)
        connectingCount -= 1
        if slots[Int(i)].fd >= 0 { closeAbortively(i) }
        slots[Int(i)].phase = .failed
    }

    /// At the connect deadline, whatever has not finished counts as failed.
    func abandonUnfinishedConnects() {
        for i in 0..<plan.count {
            switch slots[i].phase {
            case .connecting, .handshaking: failConnect(Int32(i), "connect or handshake timed out", isHandshake: slots[i].phase == .handshaking)
            case .unused: result.connectFailures += 1; result.note("connect timed out before starting"); slots[i].phase = .failed
            case .open where slots[i].role == .user && users[i].isSigningIn:
                result.note("sign-in or resume not finished at the connect deadline")
                refuseSession(Int32(i))
            default: break
            }
        }
        nextToConnect = plan.count
    }
}
