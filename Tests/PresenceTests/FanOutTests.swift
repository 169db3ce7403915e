import Presence
import Testing

/// The hot path: one status change is one event value for every contact session, built
/// without per-recipient allocations. Timings are printed, not asserted (debug builds and
/// shared CI cores vary); the structure is asserted.
struct FanOutTests {
    static func star(contacts: Int) throws -> (PresenceCore, SessionID) {
        // No op limit: the flips below come from one session at one instant.
        var core = PresenceCore(configuration: PresenceConfiguration(debounce: .zero, opBurst: 0))
        var effects: [Effect] = []
        let names = (0..<contacts).map { "c\($0)@x.io" }
        let t = Instant(milliseconds: 0)
        let star = core.nextSessionID
        try core.apply(.signIn(SignIn(session: star, user: user("star@x.io"), device: .desktop,
                                      contacts: names.map { ContactEntry(user: user($0), state: .accepted) })),
                       at: t, into: &effects)
        for name in names {
            try core.apply(.signIn(SignIn(session: core.nextSessionID, user: user(name), device: .desktop)),
                           at: t, into: &effects)
        }
        return (core, star)
    }

    @Test func testOneStatusChangeIsOneEventForAThousandContacts() throws {
        var (core, star) = try Self.star(contacts: 1_000)
        var effects: [Effect] = []
        effects.reserveCapacity(8)
        try core.apply(.setStatus(star, .busy), at: Instant(milliseconds: 1), into: &effects)
        let fanOuts = effects.compactMap { effect -> [Delivery]? in
            if case .deliver(.presence(user("star@x.io"), PresenceView(status: .busy)), let to) = effect { return to }
            return nil
        }
        #expect(fanOuts.count == 1)
        #expect(fanOuts.first?.count == 1_000)

        let clock = ContinuousClock()
        var samples: [Duration] = []
        for n in 0..<200 {
            effects.removeAll(keepingCapacity: true)
            let status: ChosenStatus = n % 2 == 0 ? .online : .busy
            let start = clock.now
            try core.apply(.setStatus(star, status), at: Instant(milliseconds: Int64(n + 2)), into: &effects)
            samples.append(clock.now - start)
        }
        samples.sort()
        print("fan-out to 1,000 contacts: p50 \(samples[100]), p99 \(samples[198])")
    }

    @Test func testTenThousandUsersWithFiftyContactsEach() throws {
        let users = 10_000, half = 25
        // No op limit: the flips below come from one session at one instant.
        var core = PresenceCore(configuration: PresenceConfiguration(debounce: .zero, opBurst: 0))
        var effects: [Effect] = []
        let names = (0..<users).map { user("u\($0)@x.io") }
        let clock = ContinuousClock()
        let start = clock.now
        let first = core.nextSessionID
        for n in 0..<users {
            let contacts = (1...half).flatMap { [names[(n + $0) % users], names[(n - $0 + users) % users]] }
            effects.removeAll(keepingCapacity: true)
            try core.apply(.signIn(SignIn(session: core.nextSessionID, user: names[n], device: .desktop,
                                          contacts: contacts.map { ContactEntry(user: $0, state: .accepted) })),
                           at: .zero, into: &effects)
        }
        print("signed in \(users) users × \(2 * half) contacts in \(clock.now - start)")
        #expect(core.sessionCount == users)
        effects.removeAll(keepingCapacity: true)
        try core.apply(.setStatus(first, .busy), at: Instant(milliseconds: 1), into: &effects)
        let recipients = effects.reduce(0) { count, effect in
            if case .deliver(.presence, let to) = effect { return count + to.count }
            return count
        }
        #expect(recipients == 2 * half)
    }
}
