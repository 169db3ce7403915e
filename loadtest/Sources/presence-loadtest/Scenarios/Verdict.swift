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
