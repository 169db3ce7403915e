import CPosix
import Glibc
import WebSocket

/// Reading frames, writing queued frames, and the server closing on us.
extension ClientLoop {
    /// One read per readiness event (level-triggered: epoll reports the rest next turn).
    func readAvailable(_ i: Int32) {
        let fd = slots[Int(i)].fd
        let n = read(fd, readBuffer.baseAddress, readBuffer.count)
        if n > 0 {
            let bytes = UnsafeMutableRawBufferPointer(rebasing: readBuffer[0..<n])
            if slots[Int(i)].phase == .handshaking { continueHandshake(i, bytes) } else { readFrames(i, bytes) }
        } else if n == 0 {
            if slots[Int(i)].phase == .handshaking { return failConnect(i, "server closed during the handshake", isHandshake: true) }
            serverDropped(i, reason: "server closed the TCP connection without a Close frame")
        } else if errno != EAGAIN && errno != EINTR {
            let why = String(cString: strerror(errno))
            if slots[Int(i)].phase == .handshaking { return failConnect(i, "read: \(why)", isHandshake: true) }
            serverDropped(i, reason: "read: \(why)")
        }
    }

    func readFrames(_ i: Int32, _ bytes: UnsafeMutableRawBufferPointer) {
        do {
            try readers[Int(i)].read(bytes) { event in self.receive(i, event) }
        } catch {
            result.protocolErrors += 1
            result.note("server broke RFC 6455: \(error)")
            closeAbortively(i)
            slots[Int(i)].phase = .closed
        }
    }

    /// One event from the server. - Returns: whether to keep reading this buffer.
    func receive(_ i: Int32, _ event: MessageReader.Event) -> Bool {
        switch event {
        case .text(let payload), .binary(let payload):
            if slots[Int(i)].role == .echo { receiveEcho(i, payload) } else if slots[Int(i)].role == .user { receiveServerText(i, payload) }
            return true
        case .ping(let payload):
            // §5.5.2: answer with a Pong carrying the same bytes.
            queueFrame(i, opcode: .pong, payload: payload, mayCompress: false)
            return true
        case .pong:
            return true
        case .close(let code, let reason):
            slots[Int(i)].closeCode = code?.rawValue ?? 1005
            let reasonText = String(decoding: reason, as: UTF8.self)
            if slots[Int(i)].role == .slow {
                result.slowWasClosed = true
                result.slowCloseCode = code?.rawValue ?? 1005
                result.slowCloseReason = reasonText
                result.slowClosedAfterNanos = now - slowStarted
            } else {
                result.droppedByServer += 1
                result.note("server closed a connection with \(code.map { "\($0)" } ?? "no code") \(reasonText)")
                if slots[Int(i)].role == .user { refuseSession(i) }
            }
            closeAbortively(i)
            slots[Int(i)].phase = .closed
            return false
        }
    }

    /// The server went away without a Close frame (EOF or reset).
    func serverDropped(_ i: Int32, reason: String) {
        if slots[Int(i)].role == .slow {
            result.slowWasClosed = true
            result.slowCloseReason = reason
            result.slowClosedAfterNanos = now - slowStarted
        } else {
            result.droppedByServer += 1
            result.note(reason)
            if slots[Int(i)].role == .user { refuseSession(i) }
        }
        closeAbortively(i)
        slots[Int(i)].phase = .closed
    }

    /// Frames one message into the connection's outbound buffer: compressed when
    /// negotiated, masked with a fresh key (§5.3).
    func queueFrame(_ i: Int32, opcode: Opcode, payload: UnsafeRawBufferPointer, mayCompress: Bool) {
        let key = UInt32(truncatingIfNeeded: rng.next())
        if mayCompress && slots[Int(i)].isCompressed {
            compressed.removeAll(keepingCapacity: true)
            deflater.compress(payload, into: &compressed)
            compressed.withUnsafeBytes {
                FrameEncoder.append(opcode: opcode, isCompressed: true, payload: $0, maskKey: key, to: &slots[Int(i)].outbound)
            }
        } else {
            FrameEncoder.append(opcode: opcode, payload: payload, maskKey: key, to: &slots[Int(i)].outbound)
        }
        markDirty(i)
    }

    func markDirty(_ i: Int32) {
        guard !slots[Int(i)].isDirty else { return }
        slots[Int(i)].isDirty = true
        dirty.append(i)
    }

    /// Writes every connection that queued frames this turn: one write() each, so a burst
    /// of answers goes out as one segment.
    func flushDirty() {
        for i in dirty {
            slots[Int(i)].isDirty = false
            if slots[Int(i)].phase == .open, !slots[Int(i)].isWaitingForWritable { writeOutbound(i) }
        }
        dirty.removeAll(keepingCapacity: true)
    }

    func writeOutbound(_ i: Int32) {
        let fd = slots[Int(i)].fd
        let start = slots[Int(i)].outboundStart
        let total = slots[Int(i)].outbound.count
        guard total > start else { return setWaitingForWritable(i, false) }
        let n = slots[Int(i)].outbound.withUnsafeBytes { write(fd, $0.baseAddress! + start, total - start) }
        if n == total - start {
            slots[Int(i)].outbound.removeAll(keepingCapacity: true)
            slots[Int(i)].outboundStart = 0
            setWaitingForWritable(i, false)
        } else if n >= 0 {
            slots[Int(i)].outboundStart += n
            setWaitingForWritable(i, true)
        } else if errno == EAGAIN || errno == EINTR {
            setWaitingForWritable(i, true)
        } else {
            serverDropped(i, reason: "write: \(String(cString: strerror(errno)))")
        }
    }

    func setWaitingForWritable(_ i: Int32, _ isWaiting: Bool) {
        guard slots[Int(i)].isWaitingForWritable != isWaiting else { return }
        slots[Int(i)].isWaitingForWritable = isWaiting
        updateInterest(i)
    }

    /// EPOLLIN unless reading is paused (the slow client), EPOLLOUT while output waits.
    func updateInterest(_ i: Int32) {
        let s = slots[Int(i)]
        var mask: UInt32 = s.isReadingPaused ? 0 : EPOLLIN.rawValue
        if s.isWaitingForWritable { mask |= EPOLLOUT.rawValue }
        _ = cposix_epoll_ctl(epfd, EPOLL_CTL_MOD, s.fd, mask, UInt64(i))
    }
}
