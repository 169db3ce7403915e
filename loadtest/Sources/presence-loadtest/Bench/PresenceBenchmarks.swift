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

    static func all(_ x: Fixture) -> [Benchmark] {
        [
            Benchmark(name: "presence event JSON body (EventEncoder.encodeEventBody)", operationsPerCall: 1) {
                x.delivered &+= EventEncoder.encodeEventBody(x.event).count
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
