import CPosix
import Glibc
import WebSocket

extension EventLoop {
    // MARK: - Sending (loop thread)

    /// Sends one message to a connection of this loop; compressed when the peer negotiated
    /// permessage-deflate and it pays. Call only on this loop's thread.
    public func send(_ id: ConnectionID, opcode: Opcode, payload: UnsafeRawBufferPointer) {
        guard let conn = connection(id), conn.state == .open else { return }
        sendMessage(conn, opcode: opcode, payload: payload)
    }

    /// Sends a text message `prefix(tag) + body` to a connection of this loop. The body is
    /// encoded once for every recipient; each gets its own frame header and prefix, copied
    /// with the body behind what it is sent this iteration. Call only on this loop's thread.
    public func sendText(_ id: ConnectionID, tag: UInt64, prefix: Prefixer, body: [UInt8]) {
        body.withUnsafeBytes { sendText(id, tag: tag, prefix: prefix, body: $0) }
    }

    /// `sendText` with the body's bytes borrowed: a fan-out holds them once for all of its
    /// recipients instead of retaining and releasing the array for each.
    func sendText(_ id: ConnectionID, tag: UInt64, prefix: Prefixer, body: UnsafeRawBufferPointer) {
        guard let conn = connection(id), conn.state == .open else { return }
        queueText(conn, tag: tag, prefix: prefix, body: body)
    }

    /// Queues `prefix(tag) + body` as one text message to an open connection.
    @inline(__always)
    func queueText(_ conn: Connection, tag: UInt64, prefix: Prefixer, body: UnsafeRawBufferPointer) {
        prefixScratch.removeAll(keepingCapacity: true)
        prefix(tag, &prefixScratch)
        traffic.messagesOut &+= 1
        traffic.bytesOut &+= UInt64(prefixScratch.count + body.count)
        var header: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &header) { h in
            let n = FrameEncoder.writeHeader(opcode: .text, payloadLength: prefixScratch.count + body.count, to: h.baseAddress!)
            prefixScratch.withUnsafeBytes { p in
                outbound.appendMessage(header: UnsafeRawBufferPointer(rebasing: h[0..<n]), prefix: p, body: body, to: conn)
            }
        }
        markDirty(conn)
    }

    /// Starts the close handshake with `code`. Call only on this loop's thread.
    public func close(_ id: ConnectionID, code: CloseCode, reason: String) {
        guard let conn = connection(id) else { return }
        switch conn.state {
        case .open: startClose(conn, code: code, reason: reason)
        case .http: conn.closeAfterFlush = true; markDirty(conn)
        default: break
        }
    }

    /// The peer address of a connection of this loop.
    public func remoteAddress(_ id: ConnectionID) -> String? { connection(id)?.remoteAddress }

    /// The number of wire bytes waiting for a slow reader (backpressure), or nil if the
    /// connection is gone.
    public func bufferedAmount(_ id: ConnectionID) -> Int? { connection(id)?.bufferedBytes }

    /// Compressing below this size rarely pays: the deflate block overhead eats the gain.
    static let compressionThreshold = 64

    func sendMessage(_ conn: Connection, opcode: Opcode, payload: UnsafeRawBufferPointer) {
        traffic.messagesOut &+= 1
        traffic.bytesOut &+= UInt64(payload.count)
        if conn.deflateWindowBits > 0, payload.count >= Self.compressionThreshold {
            let bits = Int(conn.deflateWindowBits)
            let deflater = deflaters[bits] ?? {
                let d = Deflater(windowBits: bits)
                deflaters[bits] = d
                return d
            }()
            compressed.removeAll(keepingCapacity: true)
            deflater.compress(payload, into: &compressed)
            if compressed.count < payload.count {
                compressed.withUnsafeBytes { writeFrame(conn, opcode: opcode, isCompressed: true, payload: $0) }
                return
            }
        }
        writeFrame(conn, opcode: opcode, isCompressed: false, payload: payload)
    }

    func sendControl(_ conn: Connection, opcode: Opcode, payload: UnsafeRawBufferPointer) {
        writeFrame(conn, opcode: opcode, isCompressed: false, payload: payload)
    }

    func writeFrame(_ conn: Connection, opcode: Opcode, isCompressed: Bool, payload: UnsafeRawBufferPointer) {
        var header: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &header) { h in
            let n = FrameEncoder.writeHeader(opcode: opcode, isCompressed: isCompressed, payloadLength: payload.count, to: h.baseAddress!)
            outbound.appendFrame(header: UnsafeRawBufferPointer(rebasing: h[0..<n]), payload: payload, to: conn)
        }
        markDirty(conn)
    }

    /// Queues raw bytes (an HTTP response).
    func queue(_ bytes: [UInt8], to conn: Connection) {
        bytes.withUnsafeBytes { outbound.append($0, to: conn) }
        markDirty(conn)
    }

    func startClose(_ conn: Connection, code: CloseCode, reason: String) {
        let payload = FrameEncoder.closePayload(code: code, reason: reason)
        payload.withUnsafeBytes { sendControl(conn, opcode: .close, payload: $0) }
        reportClosed(conn, code)
        conn.state = .closing
        conn.phaseDeadline = now + config.closeTimeoutMilliseconds
        arm(conn)
    }

    func markDirty(_ conn: Connection) {
        guard !conn.isDirty else { return }
        conn.isDirty = true
        dirty.append(conn.fd)
    }

    // MARK: - Writing

    /// Writes every dirty connection's queued bytes: one `write` each.
    func flushDirty() {
        var i = 0
        while i < dirty.count {
            let fd = Int(dirty[i])
            i += 1
            if let conn = connections[fd], conn.isDirty { flush(conn) }
        }
        dirty.removeAll(keepingCapacity: true)
        outbound.reset()
    }

    func flush(_ conn: Connection) {
        conn.isDirty = false
        guard conn.state != .closed else { return }
        if conn.isTLS, let tls = tlsSessions[conn.fd] {
            outbound.drain(conn) { bytes in if !tls.write(bytes) { conn.closeAfterFlush = true } }
            var n = tls.drain(into: plainBuffer)
            while n > 0 {
                conn.pending.append(UnsafeRawBufferPointer(rebasing: plainBuffer[0..<n]))
                n = tls.drain(into: plainBuffer)
            }
            writePending(conn)
        } else if conn.bufferedBytes > 0 {
            // Bytes already wait: new ones go behind them.
            outbound.drain(conn) { conn.pending.append($0) }
            writePending(conn)
        } else {
            writeQueued(conn)
        }
        guard conn.state != .closed else { return }
        if conn.state == .open, conn.bufferedBytes > Int(conn.maxBufferedBytes) {
            slowConsumer(conn)
            return
        }
        finishFlush(conn)
    }

    /// One `write` straight from the queue; only what the socket refuses is copied.
    func writeQueued(_ conn: Connection) {
        var result = IOResult.processed(0)
        outbound.drain(conn) { bytes in
            result = Syscall.write(conn.fd, bytes.baseAddress!, bytes.count)
            switch result {
            case .processed(let written):
                if written < bytes.count { conn.pending.append(UnsafeRawBufferPointer(rebasing: bytes[written...])) }
            case .wouldBlock:
                conn.pending.append(bytes)
            case .failed:
                break
            }
        }
        // Outside `drain`: closing reports to the handler, which may queue bytes for others.
        switch result {
        case .failed: abort(conn)
        case .wouldBlock: waitForWritable(conn)
        case .processed: if conn.bufferedBytes > 0 { writePending(conn) }
        }
    }

    /// Writes from `pending`; arms EPOLLOUT for what remains.
    func writePending(_ conn: Connection) {
        while conn.bufferedBytes > 0 {
            switch conn.pending.write(to: conn.fd, iovecs: iovecs, max: Self.maxIovecs) {
            case .processed:
                continue
            case .wouldBlock:
                waitForWritable(conn)
                return
            case .failed:
                abort(conn)
                return
            }
        }
        if conn.isWaitingForWritable {
            conn.isWaitingForWritable = false
            _ = cposix_epoll_ctl(epfd, EPOLL_CTL_MOD, conn.fd, EPOLLIN.rawValue, conn.token)
        }
    }

    func waitForWritable(_ conn: Connection) {
        guard !conn.isWaitingForWritable else { return }
        conn.isWaitingForWritable = true
        _ = cposix_epoll_ctl(epfd, EPOLL_CTL_MOD, conn.fd, EPOLLIN.rawValue | EPOLLOUT.rawValue, conn.token)
    }

    func onWritable(_ conn: Connection) {
        writePending(conn)
        if conn.state != .closed { finishFlush(conn) }
    }

    func finishFlush(_ conn: Connection) {
        guard conn.bufferedBytes == 0 else { return }
        if conn.lingers {
            guard !conn.isHalfClosed else { return }
            // Our Close is out: tell the peer we send nothing more (FIN, after close_notify
            // on TLS), and keep reading until it closes too.
            conn.isHalfClosed = true
            if conn.isTLS, let tls = tlsSessions[conn.fd] {
                tls.shutdown()
                let n = tls.drain(into: plainBuffer)
                if n > 0 { _ = Syscall.write(conn.fd, plainBuffer.baseAddress!, n) }
            }
            Glibc.shutdown(conn.fd, Int32(SHUT_WR))
        } else if conn.closeAfterFlush {
            closeSocket(conn)
        }
    }

    /// A reader too slow for what it is sent: queue nothing more, append a Close 1013
    /// behind what is waiting, and drop the socket if it is not read within the close timeout.
    func slowConsumer(_ conn: Connection) {
        if conn.state == .open {
            let payload = FrameEncoder.closePayload(code: .tryAgainLater, reason: "too slow: output buffer limit reached")
            var frame: [UInt8] = []
            payload.withUnsafeBytes { FrameEncoder.append(opcode: .close, payload: $0, to: &frame) }
            conn.pending.append(frame)
            reportClosed(conn, .tryAgainLater)
            conn.state = .closing
            conn.phaseDeadline = now + config.closeTimeoutMilliseconds
            arm(conn)
        }
        conn.closeAfterFlush = true
    }

    // MARK: - Closing the socket

    /// Drops the connection now (peer gone, reset, timeout).
    func abort(_ conn: Connection) {
        reportClosed(conn, .abnormal)
        closeSocket(conn)
    }

    func closeSocket(_ conn: Connection) {
        guard conn.state != .closed else { return }
        if conn.isTLS, let tls = tlsSessions[conn.fd], conn.bufferedBytes == 0, !conn.isHalfClosed {
            // Best effort close_notify; a peer that is gone will not read it.
            tls.shutdown()
            let n = tls.drain(into: plainBuffer)
            if n > 0 { _ = Syscall.write(conn.fd, plainBuffer.baseAddress!, n) }
        }
        reportClosed(conn, .abnormal)
        conn.state = .closed
        Glibc.close(conn.fd)  // also removes it from epoll
        if conn.isWebSocket { webSocketCount -= 1 }
        connections[Int(conn.fd)] = nil
        if conn.isTLS { tlsSessions[conn.fd] = nil }
        conn.carry = nil
        conn.pending.removeAll()
        openCount -= 1
        limits.release(conn.remoteAddress)
    }
}
