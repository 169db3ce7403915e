import CPosix
import Glibc
import WebSocket

extension EventLoop {
    /// One read per readiness event (level-triggered): a busy peer cannot starve the others.
    func onReadable(_ conn: Connection) {
        guard conn.state != .closed else { return }
        switch Syscall.read(conn.fd, readBuffer.baseAddress!, readBuffer.count) {
        case .processed(0):
            abort(conn)
        case .processed where conn.lingers:
            return  // discarded: nothing the peer sends after our Close matters
        case .processed(let n):
            conn.lastReceived = now
            conn.isAwaitingPong = false
            if conn.isTLS, let tls = tlsSessions[conn.fd] {
                guard tls.feed(UnsafeRawBufferPointer(rebasing: readBuffer[0..<n])) else { abort(conn); return }
                decrypt(conn, tls)
                // Handshake records and alerts go out even when no data does.
                if tls.pendingCiphertext > 0 { markDirty(conn) }
            } else {
                consume(conn, UnsafeMutableRawBufferPointer(rebasing: readBuffer[0..<n]))
            }
        case .wouldBlock:
            return
        case .failed:
            abort(conn)
        }
    }

    func decrypt(_ conn: Connection, _ tls: TLSSession) {
        while conn.state != .closed {
            switch tls.read(into: plainBuffer) {
            case .bytes(let n):
                consume(conn, UnsafeMutableRawBufferPointer(rebasing: plainBuffer[0..<n]))
            case .needMore:
                return
            case .closed, .failed:
                abort(conn)
                return
            }
        }
    }

    /// Plaintext bytes from the peer, in place in a loop buffer.
    func consume(_ conn: Connection, _ bytes: UnsafeMutableRawBufferPointer) {
        switch conn.state {
        case .http: consumeHTTP(conn, bytes)
        case .open, .closing: consumeFrames(conn, bytes)
        case .closed: return
        }
    }

    // MARK: - HTTP

    func consumeHTTP(_ conn: Connection, _ bytes: UnsafeMutableRawBufferPointer) {
        // Whatever path returns, a record left with no request bytes goes.
        defer { if conn.state == .http { conn.releaseHTTPCarryIfEmpty() } }
        if conn.inbound.isEmpty {
            let used = parseRequests(conn, bytes)
            if used < bytes.count, conn.state == .http, !conn.closeAfterFlush {
                // A partial request, or requests behind one whose answer is deferred.
                conn.httpCarry.inbound.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[used...]))
            } else if used < bytes.count, conn.state == .open {
                consumeFrames(conn, UnsafeMutableRawBufferPointer(rebasing: bytes[used...]))
            }
            return
        }
        // A request split over reads: gather it, bounded by the head and body limits.
        let carry = conn.httpCarry
        carry.inbound.append(contentsOf: UnsafeRawBufferPointer(bytes))
        if carry.inbound.count > config.maxRequestHeadSize + config.maxRequestBodySize {
            reject(conn, HTTPResponse.error(413, code: "request_too_large",
                                            message: "request larger than \(config.maxRequestHeadSize + config.maxRequestBodySize) bytes"))
            return
        }
        // Moved out (not copied) while parsing: handling a request may touch `inbound`.
        var buffer = carry.inbound
        carry.inbound = []
        let used = buffer.withUnsafeMutableBytes { parseRequests(conn, $0) }
        guard used < buffer.count else { return }
        if conn.state == .http, !conn.closeAfterFlush {
            let kept = conn.httpCarry
            if used == 0, kept.inbound.isEmpty {
                kept.inbound = buffer  // still incomplete: back in place, no copy
            } else {
                kept.inbound.append(contentsOf: buffer[used...])
            }
        } else if conn.state == .open {
            buffer.withUnsafeMutableBytes { raw in
                consumeFrames(conn, UnsafeMutableRawBufferPointer(rebasing: raw[used...]))
            }
        }
    }

    /// Handles every complete request at the start of `bytes`. - Returns: bytes used.
    /// A request left incomplete keeps its scan position and parsed head in `conn`, so the
    /// next call (with the same bytes and more) resumes where this one stopped.
    func parseRequests(_ conn: Connection, _ bytes: UnsafeMutableRawBufferPointer) -> Int {
        var used = 0
        while used < bytes.count, conn.state == .http, !conn.closeAfterFlush, !conn.isAwaitingResponse {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[used...])
            let head: HTTPRequestHead
            let headLength: Int
            let progress = conn.httpCarry
            if let parsed = progress.parsedHead {
                (head, headLength) = parsed
            } else {
                let parsed: (HTTPRequestHead, Int)?
                do {
                    parsed = try HTTPRequestParser.parse(rest, maxSize: config.maxRequestHeadSize, scanner: &progress.headScanner)
                } catch {
                    reject(conn, HTTPResponse.error(error.status, code: error.code, message: error.reason))
                    return bytes.count
                }
                guard let parsed else { return used }
                (head, headLength) = parsed
                progress.parsedHead = parsed
            }
            if Handshake.isUpgradeRequest(head) {
                used += headLength
                finishRequest(conn)
                upgrade(conn, head)
                return used
            }
            // A plain request: wait for its body, framed by Content-Length or chunked.
            let codings = head.tokens("Transfer-Encoding")
            let lengths = head.values("Content-Length")
            let body: [UInt8]
            if !codings.isEmpty {
                // RFC 9112 §6.1: chunked must be the last (and here the only) coding; with a
                // Content-Length too the framing is ambiguous (request smuggling), so 400.
                guard codings == ["chunked"] else {
                    reject(conn, HTTPResponse.error(501, code: "not_implemented",
                                                    message: "only the chunked transfer coding is supported"))
                    return bytes.count
                }
                guard lengths.isEmpty else {
                    reject(conn, HTTPResponse.error(400, code: "bad_request", message: "both Transfer-Encoding and Content-Length"))
                    return bytes.count
                }
                let decoded: (body: [UInt8], used: Int)?
                do {
                    decoded = try HTTPChunkedBody.decode(UnsafeRawBufferPointer(rebasing: rest[headLength...]),
                                                         maxSize: config.maxRequestBodySize)
                } catch .tooLarge {
                    reject(conn, HTTPResponse.error(413, code: "request_too_large",
                                                    message: "request body larger than \(config.maxRequestBodySize) bytes"))
                    return bytes.count
                } catch {
                    reject(conn, HTTPResponse.error(400, code: "bad_request", message: "bad chunked body"))
                    return bytes.count
                }
                guard let decoded else { return used }
                body = decoded.body
                used += headLength + decoded.used
            } else {
                var bodyLength = 0
                if let l = lengths.first {
                    guard lengths.count == 1, let n = Int(l), n >= 0, l.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
                        reject(conn, HTTPResponse.error(400, code: "bad_request", message: "bad Content-Length"))
                        return bytes.count
                    }
                    guard n <= config.maxRequestBodySize else {
                        reject(conn, HTTPResponse.error(413, code: "request_too_large",
                                                        message: "request body larger than \(config.maxRequestBodySize) bytes"))
                        return bytes.count
                    }
                    bodyLength = n
                }
                guard rest.count >= headLength + bodyLength else { return used }
                body = Array(rest[headLength..<(headLength + bodyLength)])
                used += headLength + bodyLength
            }
            finishRequest(conn)
            let keepAlive = head.version >= 11 && !head.tokens("Connection").contains("close") && !isStopping
            let request = HTTPRequest(head: head, body: body, remoteAddress: clientAddress(of: conn, head), endpoint: Int(conn.endpoint))
            guard let response = handler.handle(request, id: id(of: conn), on: self) else {
                conn.isAwaitingResponse = true
                conn.keepsAliveAfterResponse = keepAlive
                conn.phaseDeadline = .max
                return used
            }
            answer(conn, response, keepAlive: keepAlive)
        }
        return used
    }

    /// The current request is complete: the next one is scanned from its own start.
    func finishRequest(_ conn: Connection) {
        if case .http(let kept)? = conn.carry { kept.finishRequest() }
    }

    func answer(_ conn: Connection, _ response: HTTPResponse, keepAlive: Bool) {
        queue(response.serialized(close: !keepAlive), to: conn)
        if keepAlive {
            conn.phaseDeadline = now + config.keepAliveTimeoutMilliseconds
            arm(conn)
        } else {
            conn.closeAfterFlush = true
        }
    }

    /// Answers a request the handler deferred, then reads any request queued behind it.
    /// Call only on this loop's thread.
    public func respond(_ id: ConnectionID, with response: HTTPResponse) {
        guard let conn = connection(id), conn.state == .http, conn.isAwaitingResponse else { return }
        conn.isAwaitingResponse = false
        answer(conn, response, keepAlive: conn.keepsAliveAfterResponse && !isStopping)
        if !conn.inbound.isEmpty, !conn.closeAfterFlush {
            let carry = conn.httpCarry
            var buffer = carry.inbound
            carry.inbound = []
            buffer.withUnsafeMutableBytes { consumeHTTP(conn, $0) }
        }
    }

    /// Answers an error and ends the connection: nothing more is parsed, and the close
    /// lingers (`finishFlush`), so a client still sending its body reads the answer instead
    /// of a TCP reset.
    func reject(_ conn: Connection, _ response: HTTPResponse) {
        if case .http? = conn.carry { conn.carry = nil }
        queue(response.serialized(close: true), to: conn)
        conn.closeAfterFlush = true
        conn.lingers = true
        conn.phaseDeadline = now + config.closeTimeoutMilliseconds
        arm(conn)
    }

    func upgrade(_ conn: Connection, _ head: HTTPRequestHead) {
        if !isStopping, !admitForwardedClient(conn, head) {
            reject(conn, HTTPResponse.error(503, code: "server_busy", message: "too many connections from this address; retry later",
                                            headers: [("Retry-After", "5")]))
            return
        }
        let decision = isStopping ? .reject(.error(503, code: "shutting_down", message: "server shutting down; retry later",
                                                               headers: [("Retry-After", "5")]))
            : handler.route(head, remoteAddress: conn.remoteAddress, endpoint: Int(conn.endpoint))
        guard case .accept(let policy, let limits, let route) = decision else {
            if case .reject(let response) = decision { reject(conn, response) }
            return
        }
        switch Handshake.accept(head, policy: policy) {
        case .failure(let rejection):
            reject(conn, rejection.response)
        case .success(let accepted):
            queue(accepted.response.serialized(), to: conn)
            if let p = accepted.compression {
                conn.inflation = p.clientNoContextTakeover ? .shared : .own
                conn.deflateWindowBits = UInt8(clamping: p.serverMaxWindowBits)
            }
            conn.maxFrameSize = UInt32(clamping: limits.maxFrameSize)
            conn.maxMessageSize = UInt32(clamping: limits.maxMessageSize)
            conn.carry = nil  // the request is done; frames start with a fresh reader
            conn.state = .open
            conn.maxBufferedBytes = UInt32(clamping: limits.maxBufferedBytes ?? config.maxBufferedBytes)
            conn.isWebSocket = true
            webSocketCount += 1
            conn.phaseDeadline = 0
            arm(conn)
            handler.opened(id(of: conn), route: route, subprotocol: accepted.subprotocol, on: self)
        }
    }

    // MARK: - WebSocket

    func id(of conn: Connection) -> ConnectionID {
        ConnectionID(loop: index, fd: conn.fd, generation: conn.generation)
    }

    func consumeFrames(_ conn: Connection, _ bytes: UnsafeMutableRawBufferPointer) {
        guard conn.isWebSocket, !conn.closeAfterFlush, !conn.lingers else { return }
        let cid = id(of: conn)
        func handle(_ event: MessageReader.Event) -> Bool {
            switch event {
            case .text(let payload):
                traffic.messagesIn &+= 1
                traffic.bytesIn &+= UInt64(payload.count)
                if conn.state == .open { handler.received(cid, opcode: .text, payload: payload, on: self) }
            case .binary(let payload):
                traffic.messagesIn &+= 1
                traffic.bytesIn &+= UInt64(payload.count)
                if conn.state == .open { handler.received(cid, opcode: .binary, payload: payload, on: self) }
            case .ping(let payload):
                if conn.state == .open { sendControl(conn, opcode: .pong, payload: payload) }
            case .pong:
                break
            case .close(let code, _):
                peerClosed(conn, code: code)
                return false
            }
            return conn.state == .open || conn.state == .closing && !conn.closeAfterFlush
        }
        do {
            if let kept = conn.reader {
                try kept.reader.read(bytes, handle)
                if kept.reader.isAtRest { conn.reader = nil }
            } else {
                var reader = makeReader(for: conn)
                try reader.read(bytes, handle)
                if !reader.isAtRest { conn.reader = MessageReaderBox(reader) }
            }
        } catch {
            fail(conn, error)
        }
    }

    /// A reader in the state every message starts from, with this connection's settings.
    func makeReader(for conn: Connection) -> MessageReader {
        let inflation: MessageReader.Inflation
        switch conn.inflation {
        case .none: inflation = .none
        case .shared: inflation = .shared(sharedInflater)
        case .own: inflation = .own(nil)
        }
        return MessageReader(role: .server, maxFrameSize: Int(conn.maxFrameSize),
                             maxMessageSize: Int(conn.maxMessageSize), inflation: inflation)
    }

    /// The peer's Close arrived.
    func peerClosed(_ conn: Connection, code: CloseCode?) {
        if conn.state == .open {
            // §5.5.1: answer with a Close, echoing the code.
            if let code {
                var payload = [UInt8(code.rawValue >> 8), UInt8(code.rawValue & 0xFF)]
                payload.withUnsafeMutableBytes { sendControl(conn, opcode: .close, payload: UnsafeRawBufferPointer($0)) }
            } else {
                sendControl(conn, opcode: .close, payload: UnsafeRawBufferPointer(start: nil, count: 0))
            }
            reportClosed(conn, code ?? .noStatus)
            // An unanswered ping's timeout (kept in this field while open) is no deadline of
            // this close: 0, due at once, as before the ping's timeout shared the field.
            conn.phaseDeadline = 0
        }
        // §7.1.1: the server closes the TCP connection first, once the Close is written.
        conn.state = .closing
        conn.closeAfterFlush = true
        markDirty(conn)
    }

    /// The peer broke the protocol: close with the violation's code, deliver nothing more,
    /// and linger: the stream can no longer be parsed, so after our Close is written the
    /// socket is half-closed and input is discarded until the peer closes or the close
    /// timeout passes (`finishFlush`). Closing at once would reset a peer still sending
    /// before it read why.
    func fail(_ conn: Connection, _ error: ProtocolError) {
        if conn.state == .open {
            let payload = FrameEncoder.closePayload(code: error.closeCode, reason: error.reason)
            payload.withUnsafeBytes { sendControl(conn, opcode: .close, payload: $0) }
            reportClosed(conn, error.closeCode)
        }
        conn.state = .closing
        conn.lingers = true
        conn.phaseDeadline = now + config.closeTimeoutMilliseconds
        arm(conn)
        markDirty(conn)
    }

    func reportClosed(_ conn: Connection, _ code: CloseCode) {
        guard !conn.reportedClose, conn.isWebSocket else { return }
        conn.reportedClose = true
        handler.closed(id(of: conn), code: code, on: self)
    }
}

// MARK: - Clients behind a trusted proxy

extension EventLoop {
    func isTrustedProxy(_ address: String) -> Bool {
        guard !config.trustedProxies.isEmpty, let ip = IPAddress(parsing: address) else { return false }
        return config.trustedProxies.contains(ip)
    }

    /// The client a request comes from: the peer, or the client a trusted proxy names in
    /// `X-Forwarded-For`. Asked per request, not per connection: a proxy may carry
    /// different clients' requests on one kept-alive connection.
    func clientAddress(of conn: Connection, _ head: HTTPRequestHead) -> String {
        guard !config.trustedProxies.isEmpty else { return conn.remoteAddress }
        switch config.trustedProxies.resolve(peer: conn.remoteAddress, forwardedFor: head.values("X-Forwarded-For")) {
        case .peer: return conn.remoteAddress
        case .forwarded(let address): return address
        case .malformed:
            traffic.malformedForwardedFor &+= 1
            return conn.remoteAddress
        }
    }

    /// A WebSocket upgrading through a trusted proxy becomes its forwarded client's
    /// connection: it counts against that address's `maxConnectionsPerAddress` from now
    /// on (the proxy's own count is not limited), and `remoteAddress` names the client, so
    /// the handler limits the client's sign-ins rather than the proxy's. False when that
    /// client already holds its limit.
    func admitForwardedClient(_ conn: Connection, _ head: HTTPRequestHead) -> Bool {
        let client = clientAddress(of: conn, head)
        guard client != conn.remoteAddress else { return true }
        guard limits.transfer(from: conn.remoteAddress, to: client, maxPerAddress: config.maxConnectionsPerAddress) else { return false }
        conn.remoteAddress = client
        return true
    }
}
