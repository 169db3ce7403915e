import Gateway
import Presence

/// The presence hot paths, run in place: the gateway's event encoder and the core's fan-out
/// of one status change (Presence/PresenceCore+Publishing.swift, `fanOut`).
enum PresenceBenchmarks {
    static let contactCount = 1000

    /// A core with one user whose 1,000 accepted contacts are all signed in (one desktop
    /// session each) and a debounce of zero, so every `setStatus` fans out at once.
    final class Fixture {
        var core: PresenceCore
        var effects: [Effect] = []
        // The first session the core issues (slot 0, generation 0).
        let flipper = SessionID(slot: 0, generation: 0)
        var isBusy = false
        var clock: Int64 = 1_000
        var prefixes: [UInt8] = []
        var delivered = 0
        var decoded = 0
        let event = Event.presence(UserID(email: "user0042@load.test")!, PresenceView(status: .busy))

        init() {
            core = PresenceCore(configuration: PresenceConfiguration(debounce: .zero, opBurst: 0), now: Instant(milliseconds: clock))
            let hub = UserID(email: "hub@load.test")!
            let contacts = (0..<PresenceBenchmarks.contactCount).map { UserID(email: "user\($0)@load.test")! }
            do {
                try core.apply(.signIn(SignIn(session: flipper, user: hub, device: .desktop,
                                              contacts: contacts.map { ContactEntry(user: $0, state: .accepted) })),
                               at: Instant(milliseconds: clock), into: &effects)
                for contact in contacts {
                    try core.apply(.signIn(SignIn(session: core.nextSessionID, user: contact, device: .desktop,
                                                  contacts: [ContactEntry(user: hub, state: .accepted)])),
                                   at: Instant(milliseconds: clock), into: &effects)
                }
            } catch {
                fatalError("bench fixture: the core refused a sign-in: \(error)")
            }
            effects.removeAll(keepingCapacity: true)
            prefixes.reserveCapacity(PresenceBenchmarks.contactCount * 16)
        }

        /// One status change of the hub: online ↔ busy, 1 ms later than the previous one.
        func flip() {
            isBusy.toggle()
            clock += 1
            effects.removeAll(keepingCapacity: true)
            try? core.apply(.setStatus(flipper, isBusy ? .busy : .online), at: Instant(milliseconds: clock), into: &effects)
        }
    }

    /// A core that is shard 0 of 2, whose one local user (the hub) has 10,000 contacts
    /// homed on shard 1, so it holds 10,000 mirrors: the user lookups by address of
    /// `view(of:for:)` and of a `published` message from the other shard, in a random
    /// order and with keys in strings of their own (as decoded from a message), so neither
    /// the cache nor string identity flatters them.
    final class LookupFixture {
        static let userCount = 10_000
        var core: PresenceCore
        var effects: [Effect] = []
        let hub: UserID
        var keys: [UserID] = []
        var next = 0
        var found = 0
        var clock: Int64 = 1_000

        init() {
            let placement = ShardPlacement(count: 2, index: 0)
            core = PresenceCore(configuration: PresenceConfiguration(debounce: .zero, opBurst: 0),
                                now: Instant(milliseconds: clock), placement: placement)
            hub = (0...).lazy.map { UserID(email: "hub\($0)@load.test")! }.first { placement.home(of: $0) == 0 }!
            let contacts = Array((0...).lazy.map { UserID(email: "user\($0)@load.test")! }
                .filter { placement.home(of: $0) == 1 }.prefix(LookupFixture.userCount))
            do {
                try core.apply(.signIn(SignIn(session: core.nextSessionID, user: hub, device: .desktop,
                                              contacts: contacts.map { ContactEntry(user: $0, state: .accepted) })),
                               at: Instant(milliseconds: clock), into: &effects)
                // The answers to the sign-in's watch requests, so the mirrors are settled.
                for contact in contacts {
                    try core.apply(.fromShard(.published(subject: contact, view: .offline, reveals: [])),
                                   at: Instant(milliseconds: clock), into: &effects)
                }
            } catch {
                fatalError("bench fixture: the core refused: \(error)")
            }
            precondition(core.knownUserCount == LookupFixture.userCount + 1)
            var rng = SystemRandomNumberGenerator()
            keys = contacts.shuffled(using: &rng).map { UserID(email: String(decoding: Array($0.email.utf8), as: UTF8.self))! }
            effects.removeAll(keepingCapacity: true)
        }

        func nextKey() -> UserID {
            next = next == keys.count - 1 ? 0 : next + 1
            return keys[next]
        }
    }

    static func lookups(_ x: LookupFixture) -> [Benchmark] {
        [
            Benchmark(name: "user lookup: view(of:for:) over 10,000 mirrors, random order (two lookups per call)", operationsPerCall: 1) {
                if x.core.view(of: x.nextKey(), for: x.hub) != nil { x.found &+= 1 }
            },
            Benchmark(name: "user lookup: apply(.fromShard(.published)) for one of 10,000 mirrors, nothing to tell", operationsPerCall: 1) {
                x.effects.removeAll(keepingCapacity: true)
                try? x.core.apply(.fromShard(.published(subject: x.nextKey(), view: .offline, reveals: [])),
                                  at: Instant(milliseconds: x.clock), into: &x.effects)
                x.found &+= x.effects.count
            },
        ]
    }

    static let opDecoder = ClientOpDecoder()
    static let setStatusOp = Array(#"{"id":"17","op":"setStatus","status":"busy"}"#.utf8)
    static let heartbeatOp = Array(#"{"id":"18","op":"heartbeat","lastSeq":12345}"#.utf8)
    static let sendOp = Array(#"{"id":"19","op":"send","to":"user42@load.test","clientMessageId":"c-0000001","body":"see you at three, bring the lab results"}"#.utf8)

    /// 1 when `bytes` decodes to an op, 0 when refused (the benchmarks' ops all decode).
    static func decode(_ bytes: [UInt8]) -> Int {
        bytes.withUnsafeBytes { (try? opDecoder.decode($0, from: SessionID(slot: 1, generation: 1))) == nil ? 0 : 1 }
    }

    static func all(_ x: Fixture) -> [Benchmark] {
        [
            Benchmark(name: "presence event JSON body (EventEncoder.encodeEventBody)", operationsPerCall: 1) {
                x.delivered &+= EventEncoder.encodeEventBody(x.event).count
            },
            // What the loop does with every client frame before the presence thread sees it.
            Benchmark(name: "client op decode: setStatus (ClientOpDecoder, JSON parse + fields)", operationsPerCall: 1) {
                x.decoded &+= Self.decode(Self.setStatusOp)
            },
            Benchmark(name: "client op decode: heartbeat", operationsPerCall: 1) {
                x.decoded &+= Self.decode(Self.heartbeatOp)
            },
            Benchmark(name: "client op decode: send with a 40-byte body", operationsPerCall: 1) {
                x.decoded &+= Self.decode(Self.sendOp)
            },
            // The presence thread samples this gauge once a second on its own thread: the
            // pass delays every input queued behind it (a shard of 5,000 signed-in users
            // takes 5 times this).
            Benchmark(name: "users-by-status gauge: one pass over 1,001 signed-in users (PresenceCore.usersByStatus)", operationsPerCall: 1) {
                x.delivered &+= x.core.usersByStatus.count
            },
            Benchmark(name: "fan-out of one status change to 1,000 contacts (PresenceCore.apply setStatus, per change)", operationsPerCall: 1) {
                x.flip()
                x.delivered &+= x.effects.count
            },
            Benchmark(name: "fan-out + encode once + 1,000 {\"seq\":N, prefixes (the presence thread's work, per change)", operationsPerCall: 1) {
                x.flip()
                for effect in x.effects {
                    guard case .deliver(let event, let deliveries) = effect else { continue }
                    let body = EventEncoder.encodeEventBody(event)
                    x.prefixes.removeAll(keepingCapacity: true)
                    for d in deliveries { EventEncoder.eventPrefix(seq: d.sequence, into: &x.prefixes) }
                    x.delivered &+= body.count
                }
            },
        ]
    }
}
