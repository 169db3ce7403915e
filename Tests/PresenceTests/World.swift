import Presence

// A core plus a hand-driven clock and the log of every effect, so tests read like
// conversations and can ask "what did this session see?".

func user(_ email: String) -> UserID { UserID(email: email)! }

/// The product defaults, but with debounce off so presence events appear in the same step;
/// damping tests turn it back on.
let immediate = PresenceConfiguration(debounce: .zero)

struct World {
    var core: PresenceCore
    var time = Instant(milliseconds: 1_700_000_000_000)
    /// Every effect, in order.
    var log: [Effect] = []
    /// The effects of the latest step.
    var last: [Effect] = []
    /// The core issues session IDs; tests name sessions by small numbers, mapped here at
    /// their sign-in (`session(_:)` gives the issued ID, or the bare number before that).
    var issued: [UInt64: SessionID] = [:]

    func session(_ number: UInt64) -> SessionID { issued[number] ?? SessionID(number) }

    init(_ configuration: PresenceConfiguration = immediate) {
        core = PresenceCore(configuration: configuration, now: time)
    }

    mutating func run(_ command: Command) throws(PresenceError) {
        var command = command
        // A sign-in named by a test number gets the ID the core issues next.
        switch command {
        case .signIn(var request) where request.session != core.nextSessionID:
            issued[request.session.rawValue] = core.nextSessionID
            request.session = core.nextSessionID
            command = .signIn(request)
        case .signInSubscriber(let number, let allowed, let attachment) where number != core.nextSessionID:
            issued[number.rawValue] = core.nextSessionID
            command = .signInSubscriber(core.nextSessionID, allowed: allowed, attachment: attachment)
        default:
            break
        }
        var effects: [Effect] = []
        defer { log += effects; last = effects }
        try core.apply(command, at: time, into: &effects)
    }

    /// The error a command is refused with, or `nil` if it was applied.
    mutating func refusal(_ command: Command) -> PresenceError? {
        do { try run(command) } catch { return error }
        return nil
    }

    mutating func wait(_ duration: Duration) {
        time = time + duration
        var effects: [Effect] = []
        core.advance(to: time, into: &effects)
        log += effects
        last = effects
    }

    @discardableResult
    mutating func signIn(_ email: String, _ number: UInt64, device: DeviceKind = .desktop,
                         chosen: ChosenStatus = .online, contacts: [String] = [],
                         mail: Bool = false, backlog: [ChatMessage] = []) throws(PresenceError) -> SessionID {
        try run(.signIn(SignIn(
            session: SessionID(number), user: user(email), device: device, chosenStatus: chosen,
            isOfflineMailEnabled: mail,
            contacts: contacts.map { ContactEntry(user: user($0), state: .accepted) }, backlog: backlog)))
        return session(number)
    }

    /// Events delivered to `session`, in order, with their sequences.
    func deliveries(to session: SessionID, in effects: [Effect]? = nil) -> [(sequence: UInt64, event: Event)] {
        var result: [(sequence: UInt64, event: Event)] = []
        for effect in effects ?? log {
            if case .deliver(let event, let recipients) = effect {
                for recipient in recipients where recipient.session == session {
                    result.append((recipient.sequence, event))
                }
            }
        }
        return result
    }

    func events(to session: SessionID, in effects: [Effect]? = nil) -> [Event] {
        deliveries(to: session, in: effects).map(\.event)
    }

    /// Presence values about `subject` delivered to `session`.
    func presence(of subject: String, seenBy session: SessionID, in effects: [Effect]? = nil) -> [PresenceStatus] {
        events(to: session, in: effects).compactMap {
            if case .presence(let who, let view) = $0, who == user(subject) { return view.status }
            return nil
        }
    }

    /// The snapshot a session got at sign-in.
    func snapshot(of session: SessionID) -> Snapshot? {
        for event in events(to: session) { if case .snapshot(let snapshot) = event { return snapshot } }
        return nil
    }

    /// Effects other than deliveries, e.g. persist and mail effects, from `effects`.
    /// Everything but deliveries and `send` answers (what goes back to clients).
    func sideEffects(in effects: [Effect]? = nil) -> [Effect] {
        (effects ?? log).filter {
            switch $0 {
            case .deliver, .answerSend: false
            default: true
            }
        }
    }

    /// The `send` answers, in order.
    func sendAnswers(in effects: [Effect]? = nil) -> [Effect] {
        (effects ?? log).filter { if case .answerSend = $0 { true } else { false } }
    }

    /// The core's visibility function, for tests that check what one user may see.
    func view(of subject: UserID, for observer: UserID) -> PresenceView? {
        core.view(of: subject, for: observer)
    }

    /// The ticket of the most recent `persistMessage`.
    var lastTicket: MessageTicket? {
        for effect in log.reversed() { if case .persistMessage(let message) = effect { return message.ticket } }
        return nil
    }
}
