import Foundation
import PresenceClient
import Storage
import Testing

/// Chosen statuses are stored together, the newest choice of each user, once the first of
/// them has waited `GatewayConfiguration.chosenStatusWriteDelay` (`writeChosenStatuses`),
/// at once when one of them is Hidden, and at a stop; not once per change.
@Suite struct StatusPersistenceTests {
    /// Each user's choices, in order. Every last choice differs from the one before it and
    /// from the default (online), so a write lost, or applied out of order, would show
    /// (with the statuses left unstored, all three expectations fail).
    static let choices = ["alice": ["busy", "hidden", "online", "busy"],
                          "bob": ["busy", "online", "hidden"],
                          "carol": ["hidden", "online", "busy"]]

    /// A burst of changes from three users, sent without waiting for the replies so they
    /// reach the presence thread together, leaves each user's last choice in storage: a
    /// gateway started afresh on the same data directory shows it in each user's snapshot.
    @Test func aBurstOfChangesStoresEachUsersLastChoice() throws {
        let names = Self.choices.keys.sorted()
        let directory: URL
        do {
            let g = try RunningGateway()
            g.keepsDirectory = true
            directory = g.directory
            for name in names { try g.signUp(name) }
            let connections = try names.map { try g.signIn($0).0 }
            var sent: [(PresenceConnection, String)] = []
            for step in 0..<4 {
                for (name, c) in zip(names, connections) where step < Self.choices[name]!.count {
                    sent.append((c, try c.send("setStatus", ["status": Self.choices[name]![step]])))
                }
            }
            for (c, id) in sent { #expect(try c.reply(to: id)["type"] as? String == "ok") }
            withExtendedLifetime(g) {}
        }  // the gateway shuts down here, its storage writer drained

        let g = try RunningGateway(directory: directory)
        for name in names {
            let (c, _) = try g.signIn(name)
            #expect(try c.event("snapshot")["status"] as? String == Self.choices[name]!.last, "\(name)")
        }
    }

    /// With the gateway running and nothing else arriving, the last of a user's choices
    /// reaches storage once the delay has passed: the presence thread wakes for it.
    @Test func theLastChoiceIsStoredAfterTheDelayWithoutAStop() throws {
        let g = try RunningGateway()
        try g.signUp("dora")
        let (c, _) = try g.signIn("dora")
        let store = PresenceStore(try Database(path: g.databasePath, migrate: false))
        let before = try store.chosenStatus(of: "dora@example.com")
        #expect(before != "busy")
        let sent = try ["busy", "hidden", "busy"].map { try c.send("setStatus", ["status": $0]) }
        for id in sent { #expect(try c.reply(to: id)["type"] as? String == "ok") }
        let started = Date()
        var stored = before
        while stored != "busy" && Date().timeIntervalSince(started) < 5 {
            Thread.sleep(forTimeInterval: 0.02)
            stored = try store.chosenStatus(of: "dora@example.com")
        }
        #expect(stored == "busy")
        withExtendedLifetime(g) {}
    }

    /// Hidden does not wait for the delay, so a crash cannot bring a hidden user back as
    /// Online at their next sign-in. With the delay at a minute, a Busy choice stays
    /// unstored (the positive control: the delay holds other choices back), and a Hidden
    /// choice after it reaches storage at once.
    @Test func hiddenIsStoredAtOnceWhateverTheDelay() throws {
        let g = try RunningGateway { $0.chosenStatusWriteDelay = .seconds(60) }
        try g.signUp("erin")
        let (c, _) = try g.signIn("erin")
        let store = PresenceStore(try Database(path: g.databasePath, migrate: false))
        let busy = try c.send("setStatus", ["status": "busy"])
        #expect(try c.reply(to: busy)["type"] as? String == "ok")
        Thread.sleep(forTimeInterval: 0.5)
        #expect(try store.chosenStatus(of: "erin@example.com") != "busy")
        let hidden = try c.send("setStatus", ["status": "hidden"])
        #expect(try c.reply(to: hidden)["type"] as? String == "ok")
        let started = Date()
        var stored = try store.chosenStatus(of: "erin@example.com")
        while stored != "hidden" && Date().timeIntervalSince(started) < 5 {
            Thread.sleep(forTimeInterval: 0.02)
            stored = try store.chosenStatus(of: "erin@example.com")
        }
        #expect(stored == "hidden")
        withExtendedLifetime(g) {}
    }
}
