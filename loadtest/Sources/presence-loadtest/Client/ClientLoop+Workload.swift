import Glibc
import WebSocket

/// What echo and slow connections send, and how answers are checked and timed.
extension ClientLoop {
    func beginWorkload(_ i: Int32) {
        switch slots[Int(i)].role {
        case .echo:
            for _ in 0..<plan.inFlight { sendEcho(i) }
        case .slow:
            // Stop reading: the server's echoes now pile up in its output buffer.
            slots[Int(i)].isReadingPaused = true
            updateInterest(i)
            slowStarted = now
        case .idle, .user:
            break
        }
    }

    /// Stamps the template with the time, sequence and connection, and queues it.
    @inline(__always)
    func sendEcho(_ i: Int32) {
        EchoPayload.stamp(payloadScratch, time: now, sequence: slots[Int(i)].sent, connection: UInt32(truncatingIfNeeded: slots[Int(i)].globalIndex))
        slots[Int(i)].sent &+= 1
        outstanding += 1
        queueFrame(i, opcode: .text, payload: UnsafeRawBufferPointer(payloadScratch), mayCompress: true)
    }

    /// An answer: it must be the next message this connection sent, byte for byte.
    @inline(__always)
    func receiveEcho(_ i: Int32, _ payload: UnsafeRawBufferPointer) {
        let expected = slots[Int(i)].answered
        guard let sentAt = echoPayload.check(payload, sequence: expected, connection: UInt32(truncatingIfNeeded: slots[Int(i)].globalIndex)) else {
            result.mismatched += 1
            result.note("an echo did not match the message sent (connection \(slots[Int(i)].globalIndex), sequence \(expected))")
            return
        }
        slots[Int(i)].answered &+= 1
        outstanding -= 1
        if sentAt >= measureStart && now <= sendEnd {
            result.latency.record(now - sentAt)
            result.answeredInWindow += 1
        }
        if now < sendEnd { sendEcho(i) }
    }

    /// Keeps one large message queued on the slow connection while it sends, up to the limit.
    func feedSlowClient() {
        guard now >= measureStart, now < sendEnd, !slowPayload.isEmpty, let slow = plan.slowIndex else { return }
        let i = slow - plan.firstIndex
        if slowStarted == 0 {
            guard slots[i].phase == .open else { return }
            beginWorkload(Int32(i))
        }
        guard slots[i].phase == .open, slots[i].outbound.isEmpty,
              result.slowBytesSent / plan.slowMessageSize < plan.slowMessageLimit else { return }
        slowPayload.withUnsafeBytes { queueFrame(Int32(i), opcode: .binary, payload: $0, mayCompress: false) }
        result.slowBytesSent += plan.slowMessageSize
    }

    /// The slow client reads again, to find the server's Close (or reset) behind its echoes.
    func resumeReading(_ i: Int32) {
        guard slots[Int(i)].phase == .open else { return }
        slots[Int(i)].isReadingPaused = false
        slots[Int(i)].outbound = []
        slots[Int(i)].outboundStart = 0
        slots[Int(i)].isWaitingForWritable = false
        updateInterest(i)
    }

    /// Whether a slow client still waits for the server to close it.
    var isSlowClientWaiting: Bool {
        guard let slow = plan.slowIndex, !slowPayload.isEmpty, !result.slowWasClosed else { return false }
        return slots[slow - plan.firstIndex].phase == .open
    }
}
