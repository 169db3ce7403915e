import Foundation
import PresenceClient
import Testing

/// Chosen statuses are stored once per batch of the presence thread's inputs
/// (`PresenceThread.writeChosenStatuses`), not once per change.
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
}
