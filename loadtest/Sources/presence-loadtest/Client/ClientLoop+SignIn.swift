import Glibc
import WebSocket

/// presence.v1 on a `.user` connection: hello → signIn (or resume) → reply → snapshot,
/// then every message routed by its kind (Protocol/README.md §1-§5).
extension ClientLoop {
    /// The handshake finished: the server's `hello` comes next.
    func beginSession(_ i: Int32) {
        users[Int(i)].stage = .awaitingHello
        users[Int(i)].isSigningIn = true
        signingInCount += 1
    }

    func endSigningIn(_ i: Int32) {
        guard users[Int(i)].isSigningIn else { return }
        users[Int(i)].isSigningIn = false
        signingInCount -= 1
    }

    /// The session is lost to this run: refused, dropped, or not finished in time.
    func refuseSession(_ i: Int32) {
        switch users[Int(i)].stage {
        case .ready, .refused: break
        case .resuming: result.session.resumeRefused += 1
        default: result.session.signInRefused += 1
        }
        endSigningIn(i)
        users[Int(i)].stage = .refused
    }

    /// After the connect phase, before the start: the token file gets the rotated tokens
    /// at once, so a run that dies later leaves a usable file.
    func settleSignIns() {
        do { try plan.session?.users.saveTokens() } catch { result.note("\(error)") }
    }

    /// One text message from the server.
    func receiveServerText(_ i: Int32, _ payload: UnsafeRawBufferPointer) {
        let text = ServerText(bytes: payload)
        switch text.kind {
        case .event(let seq, let typeStart): receiveEvent(i, text, seq: seq, typeStart: typeStart)
        case .ok(let idStart): receiveOK(i, text, idStart: idStart)
        case .error(let idStart): receiveError(i, text, idStart: idStart)
        case .hello: receiveHello(i)
        case .closing: result.note("user \(i): \(text.text)")
        case .unrecognised:
            result.session.unrecognisedMessages += 1
            result.note("user \(i): unrecognised message \(text.text)")
        }
    }

    func receiveHello(_ i: Int32) {
        guard users[Int(i)].stage == .awaitingHello, let session = plan.session else { return }
        users[Int(i)].requestSentAt = now
        if users[Int(i)].resumesNext, let token = resumeTokens[Int(i)] {
            users[Int(i)].stage = .resuming
            sendOp(i, ClientOps.resume(token: token, lastSeq: users[Int(i)].lastSeq))
        } else {
            users[Int(i)].stage = .signingIn
            sendOp(i, ClientOps.signIn(deviceToken: session.users.tokens[slots[Int(i)].globalIndex]))
        }
    }

    /// Replies are routed on the first letter of their request ID (see `ClientOps`).
    func receiveOK(_ i: Int32, _ text: ServerText, idStart: Int) {
        switch text.bytes[idStart] {
        case UInt8(ascii: "s"): receiveSignInReply(i, text, idStart: idStart)
        case UInt8(ascii: "r"): receiveResumeReply(i)
        case UInt8(ascii: "m"): receiveSendReply(i, text, idStart: idStart)
        default: break  // setStatus and heartbeat: nothing to learn from `ok`
        }
    }

    func receiveError(_ i: Int32, _ text: ServerText, idStart: Int?) {
        result.session.errorReplies += 1
        let op = idStart.map { text.bytes[$0] }
        if op == UInt8(ascii: "r") && users[Int(i)].stage == .resuming {
            // §4 resume: every resume error means "sign in afresh on this connection".
            result.session.resumeRefused += 1
            result.note("user \(slots[Int(i)].globalIndex): resume refused, signing in afresh: \(text.text)")
            users[Int(i)].resumesNext = false
            users[Int(i)].stage = .signingIn
            users[Int(i)].requestSentAt = now
            sendOp(i, ClientOps.signIn(deviceToken: plan.session!.users.tokens[slots[Int(i)].globalIndex]))
            return
        }
        result.note("user \(slots[Int(i)].globalIndex): \(text.text)")
        if op == UInt8(ascii: "s") { refuseSession(i) }
    }

    func receiveSignInReply(_ i: Int32, _ text: ServerText, idStart: Int) {
        guard users[Int(i)].stage == .signingIn, let session = plan.session else { return }
        // §4 signIn: a token sign-in rotates the token; the one sent no longer works.
        if let at = text.valueStart(of: ServerText.deviceTokenKey, from: idStart), let token = text.string(at: at) {
            session.users.tokens[slots[Int(i)].globalIndex] = token
        } else {
            result.note("user \(slots[Int(i)].globalIndex): the token sign-in reply carried no rotated deviceToken")
            result.session.errorReplies += 1
        }
        resumeTokens[Int(i)] = text.valueStart(of: ServerText.resumeTokenKey, from: idStart).flatMap { text.string(at: $0) }
        // A new session numbers its events from 1 again.
        users[Int(i)].lastSeq = 0
        users[Int(i)].ackedSeq = 0
        users[Int(i)].stage = .awaitingSnapshot
    }

    func receiveResumeReply(_ i: Int32) {
        guard users[Int(i)].stage == .resuming else { return }
        users[Int(i)].stage = .ready
        endSigningIn(i)
        result.session.resumed += 1
        result.session.resumeFinished = now
        result.session.resumeLatency.record(now - users[Int(i)].requestSentAt)
        if isFlipper[Int(i)] { issueChange(Int(i)) }
    }

    /// Every event: `seq` must be the previous plus one, or an event was lost.
    func receiveEvent(_ i: Int32, _ text: ServerText, seq: UInt64, typeStart: Int) {
        if seq != users[Int(i)].lastSeq + 1 {
            result.session.sequenceGaps += 1
            result.note("user \(slots[Int(i)].globalIndex): event seq \(seq) after \(users[Int(i)].lastSeq)")
        }
        users[Int(i)].lastSeq = seq
        switch text.eventType(at: typeStart) {
        case .snapshot: receiveSnapshot(i, text, typeStart: typeStart)
        case .presence: receivePresence(i, text, typeStart: typeStart)
        case .chat: receiveChat(i, text, typeStart: typeStart)
        case .chatAccepted, .ownStatus, .other: break
        }
        if users[Int(i)].stage == .ready, users[Int(i)].lastSeq - users[Int(i)].ackedSeq >= plan.session!.acknowledgeEvery {
            acknowledge(i)
        }
    }

    /// `seq` 1 of a sign-in: the user's own chosen status is where flips start from.
    func receiveSnapshot(_ i: Int32, _ text: ServerText, typeStart: Int) {
        guard users[Int(i)].stage == .awaitingSnapshot, let session = plan.session else {
            result.session.unrecognisedMessages += 1
            result.note("user \(slots[Int(i)].globalIndex): a snapshot outside a sign-in")
            return
        }
        let user = slots[Int(i)].globalIndex
        let status = text.valueStart(of: ServerText.statusKey, from: typeStart).flatMap { UserStatus.read(text, at: $0) } ?? .online
        if (status == .hidden) != session.users.isHidden[user] {
            result.session.hiddenViolations += 1
            result.note("user \(user): snapshot status \(status), the graph file says \(session.users.isHidden[user] ? "hidden" : "visible")")
        }
        users[Int(i)].chosen = status
        users[Int(i)].stage = .ready
        users[Int(i)].hasSession = true
        endSigningIn(i)
        result.session.signedIn += 1
        result.session.signInFinished = now
        result.session.signInLatency.record(now - users[Int(i)].requestSentAt)
        acknowledge(i)
    }

    /// A heartbeat carrying the highest `seq` processed: frees the server's replay space and
    /// marks acknowledged chats delivered (§4 heartbeat).
    func acknowledge(_ i: Int32) {
        ClientOps.heartbeat(lastSeq: users[Int(i)].lastSeq, into: &opScratch)
        users[Int(i)].ackedSeq = users[Int(i)].lastSeq
        opScratch.withUnsafeBytes { queueFrame(i, opcode: .text, payload: $0, mayCompress: false) }
    }

    func acknowledgeAll() {
        for i in 0..<plan.count where slots[i].phase == .open && users[i].stage == .ready && users[i].lastSeq > users[i].ackedSeq {
            acknowledge(Int32(i))
        }
    }

    /// Every signed-in session's heartbeat, whether or not anything new arrived: what a
    /// real client sends each `heartbeatSeconds` (the server's hello says 25), so that a
    /// session held longer than two intervals is not closed as silent (4006).
    func heartbeatAll() {
        for i in 0..<plan.count where slots[i].phase == .open && users[i].stage == .ready {
            acknowledge(Int32(i))
        }
    }

    func sendOp(_ i: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { queueFrame(i, opcode: .text, payload: $0, mayCompress: false) }
    }
}
