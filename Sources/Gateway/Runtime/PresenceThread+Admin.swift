import Presence
import Transport
import WebSocket

// Operators' questions and tests' probes, answered on the presence thread.

extension PresenceThread {
    /// Sizes of the presence thread's tables.
    struct Counts: Sendable {
        var sessions: Int
        var waitingSends: Int
    }

    /// Answers an operator's question (`AdminAPI`) from the core.
    func answer(_ query: AdminAPI.Query, respond: @Sendable (HTTPResponse) -> Void, at time: Instant) {
        switch query {
        case .sessions:
            respond(AdminAPI.sessions(core.sessionSummaries, wall: clock.mapping(), node: epoch.qualifier))
        case .explain(let user):
            respond(AdminAPI.explanation(core.explain(user), of: user, wall: clock.mapping(), node: epoch.qualifier))
        case .kick(let session):
            do {
                try core.apply(.signOut(session), at: time, into: &effects)
                respond(HTTPWire.jsonResponse(200, Array(#"{"status":"kicked"}"#.utf8)))
            } catch {
                respond(HTTPWire.errorResponse(ErrorReply(error)))
            }
        }
    }
}
