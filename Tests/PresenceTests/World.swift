import Foundation
import Presence

// A core plus a hand-driven clock and the log of every effect, so tests read like
// conversations and can ask "what did this session see?".

func user(_ email: String) -> UserID { UserID(email: email)! }

/// The product defaults, but with debounce off so presence events appear in the same step;
/// damping tests turn it back on.
let immediate = PresenceConfiguration(debounce: .zero)

/// A set of presence shards that tests drive as if it were one core: each command goes to
/// the shard that owns it, and every message between shards is carried at once, in order,
/// before the step ends, so `last` holds the effects of all shards (without the messages).
/// `PRESENCE_TEST_SHARDS=N` runs every test that uses `World` on N shards instead of one.
struct World {
    static let defaultShardCount = Int(ProcessInfo.processInfo.environment["PRESENCE_TEST_SHARDS"] ?? "") ?? 1

    var cores: [PresenceCore]
    /// The only core of a one-shard world (shard 0 of a larger one).
    var core: PresenceCore {
        get { cores[0] }
        set { cores[0] = newValue }
    }
    var time = Instant(milliseconds: 1_700_000_000_000)
    /// Every effect, in order.
    var log: [Effect] = []
    /// The effects of the latest step.
    var last: [Effect] = []
    /// Messages carried between shards, as (from, to, message), for tests of the bus itself.
    var carried: [(from: Int, to: Int, message: ShardMessage)] = []
    /// The core issues session IDs; tests name sessions by small numbers, mapped here at
    /// their sign-in (`session(_:)` gives the issued ID, or the bare number before that).
    var issued: [UInt64: SessionID] = [:]

    func session(_ number: UInt64) -> SessionID { issued[number] ?? SessionID(number) }

    init(_ configuration: PresenceConfiguration = immediate, shards: Int = World.defaultShardCount) {
        let start = time
        cores = (0..<shards).map {
            PresenceCore(configuration: configuration, now: start, placement: ShardPlacement(count: shards, index: $0))
        }
    }

    /// The shard that owns `user`.
    func home(of email: String) -> Int { cores[0].placement.home(of: user(email)) }

    /// Where a command goes: a user's home, a session's or ticket's shard.
    func shard(for command: Command) -> Int {
        if case .signInSubscriber = command { return 0 }  // tests issue subscribers on shard 0
        return command.shard(in: cores[0].placement)
    }

    mutating func run(_ command: Command) throws(PresenceError) {
        var command = command
        let target = shard(for: command)
        // A sign-in named by a test number gets the ID the core issues next.
        switch command {
        case .signIn(var request) where request.session != cores[target].nextSessionID:
            issued[request.session.rawValue] = cores[target].nextSessionID
            request.session = cores[target].nextSessionID
            command = .signIn(request)
        case .signInSubscriber(let number, let allowed, let attachment) where number != cores[target].nextSessionID:
            issued[number.rawValue] = cores[target].nextSessionID
            command = .signInSubscriber(cores[target].nextSessionID, allowed: allowed, attachment: attachment)
        default:
            break
        }
        var effects: [Effect] = []
        defer { log += effects; last = effects }
        if case .restoreShown = command {
            for index in cores.indices { try cores[index].apply(command, at: time, into: &effects) }
            return
        }
        var produced: [Effect] = []
        var refusal: PresenceError?
        do { try cores[target].apply(command, at: time, into: &produced) } catch { refusal = error }
        effects = settle(produced, from: target)
        if let refusal { throw refusal }
    }

    /// While set, messages between shards wait in `held` until `releaseHeld()`: for tests
    /// of changes that cross on their way.
    var isHoldingMessages = false
    var held: [(from: Int, to: Int, message: ShardMessage)] = []

    /// Carries the held messages (and all they cause), in order.
    mutating func releaseHeld() {
        isHoldingMessages = false
        let queue = held
        held = []
        // One queue for the held messages and everything they cause, so that a message
        // caused during the release never overtakes one held earlier between the same two
        // shards (the bus's order, `ClusterBus`).
        let effects = settle([], from: 0, after: queue)
        log += effects
        last = effects
    }

    /// Carries every message between shards, in order, until none is left; returns the
    /// other effects in the order they arose.
    mutating func settle(_ produced: [Effect], from origin: Int,
                         after earlier: [(from: Int, to: Int, message: ShardMessage)] = []) -> [Effect] {
        var result: [Effect] = []
        var queue = earlier
        let isHolding = isHoldingMessages
        var held: [(from: Int, to: Int, message: ShardMessage)] = []
        func take(_ effects: [Effect], from shard: Int) {
            for effect in effects {
                guard case .forward(let message, let to) = effect else {
                    result.append(effect)
                    continue
                }
                if isHolding { held.append((shard, to, message)) } else { queue.append((shard, to, message)) }
            }
        }
        take(produced, from: origin)
        defer { self.held += held }
        var next = 0
        while next < queue.count {
            let (from, to, message) = queue[next]
            next += 1
            carried.append((from, to, message))
            var effects: [Effect] = []
            try? cores[to].apply(.fromShard(message), at: time, into: &effects)
            take(effects, from: to)
        }
        return result
    }

    /// The error a command is refused with, or `nil` if it was applied.
    mutating func refusal(_ command: Command) -> PresenceError? {
        do { try run(command) } catch { return error }
        return nil
    }

    /// Moves every shard's clock forward together: deadlines run in time order across
    /// shards, each step's messages carried before the next.
    mutating func wait(_ duration: Duration) {
        let target = time + duration
        var effects: [Effect] = []
        while true {
            let due = cores.compactMap(\.nextDeadline).filter { $0 <= target }.min()
            let step = due ?? target
            for index in cores.indices {
                var produced: [Effect] = []
                cores[index].advance(to: step, into: &produced)
                time = step
                effects += settle(produced, from: index)
            }
            if due == nil { break }
        }
        time = target
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

    /// The earliest deadline of any shard: the one timer a gateway running them all needs.
    var nextDeadline: Instant? { cores.compactMap(\.nextDeadline).min() }

    /// Every shard's `shownToContacts()`: each answers for the users it is home to.
    func shownToContacts() -> [ShownPresence] { cores.flatMap { $0.shownToContacts() } }

    /// A process restart: every shard starts empty at the current time.
    mutating func restartCores(_ configuration: PresenceConfiguration) {
        let start = time, count = cores.count
        cores = (0..<count).map {
            PresenceCore(configuration: configuration, now: start, placement: ShardPlacement(count: count, index: $0))
        }
    }

    /// The core's visibility function, for tests that check what one user may see: asked
    /// of the observer's home.
    func view(of subject: UserID, for observer: UserID) -> PresenceView? {
        cores[cores[0].placement.home(of: observer)].view(of: subject, for: observer)
    }

    /// The ticket of the most recent `persistMessage`.
    var lastTicket: MessageTicket? {
        for effect in log.reversed() { if case .persistMessage(let message) = effect { return message.ticket } }
        return nil
    }
}
