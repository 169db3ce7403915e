/// Correctness checks of a run: what the smoke test asserts and what turns the exit
/// status to 2. Timings are never checked here; figures are only reported.
enum Verdict {
    /// Every connection opened and stayed open, with no protocol error.
    static func connections(_ o: RunOutcome, _ label: String) -> [String] {
        let m = o.merged
        var failures: [String] = []
        if m.opened != m.attempted {
            failures.append("\(label): \(m.opened) of \(m.attempted) connected (\(m.connectFailures) connect, \(m.handshakeFailures) handshake failures; first: \(m.firstError ?? "?"))")
        }
        if m.droppedByServer > 0 { failures.append("\(label): the server dropped \(m.droppedByServer) connections (first: \(m.firstError ?? "?"))") }
        if m.protocolErrors > 0 { failures.append("\(label): \(m.protocolErrors) protocol errors (first: \(m.firstError ?? "?"))") }
        return failures
    }

    /// Signed-in runs: everyone signed in, no event lost or out of sequence, nobody told of a
    /// hidden user or of a non-contact, no error reply, and every window's deliveries in.
    /// `lateIsLost` false (presence --find-knee): deliveries missing at the end of a step's
    /// drain only fail that step, since overload steps are the point; `seq` gaps still count.
    static func sessions(_ o: RunOutcome, _ label: String, expectedUsers: Int, lateIsLost: Bool = true) -> [String] {
        let t = o.merged.session
        let first = o.merged.firstError ?? "?"
        var failures = connections(o, label)
        if t.signInRefused > 0 { failures.append("\(label): \(t.signInRefused) sign-ins refused or unfinished (first: \(first))") }
        if t.signedIn < expectedUsers { failures.append("\(label): \(t.signedIn) of \(expectedUsers) users signed in") }
        if t.sequenceGaps > 0 { failures.append("\(label): \(t.sequenceGaps) events out of sequence (lost or repeated; first: \(first))") }
        if t.hiddenViolations > 0 { failures.append("\(label): \(t.hiddenViolations) presence events revealed a hidden user") }
        if t.strangerEvents > 0 { failures.append("\(label): \(t.strangerEvents) events about or from a non-contact") }
        if t.unrecognisedMessages > 0 { failures.append("\(label): \(t.unrecognisedMessages) unrecognised or unexpected messages (first: \(first))") }
        if t.errorReplies > 0 { failures.append("\(label): \(t.errorReplies) error replies (first: \(first))") }
        for (k, w) in t.windows.enumerated() where w.abandoned > 0 && lateIsLost {
            failures.append("\(label) window \(k + 1): \(w.abandoned) deliveries or replies never arrived")
        }
        return failures
    }

    /// Every echo answered, in order, byte for byte.
    static func echoes(_ o: RunOutcome, _ label: String) -> [String] {
        let m = o.merged
        var failures = connections(o, label)
        if m.sent == 0 { failures.append("\(label): no message was sent") }
        if m.answered != m.sent { failures.append("\(label): \(m.sent - min(m.sent, m.answered)) of \(m.sent) echoes unanswered") }
        if m.mismatched > 0 { failures.append("\(label): \(m.mismatched) echoes did not match what was sent") }
        return failures
    }
}
