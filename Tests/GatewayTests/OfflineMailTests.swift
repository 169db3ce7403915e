import Foundation
@testable import Gateway
import PresenceClient
import Storage
import Testing

/// presence-rules.md, Chats: one "you have new messages" mail per offline period.
@Suite(.serialized) struct OfflineMailTests {
    @Test func aSecondOfflinePeriodGetsItsOwnMail() throws {
        let g = try RunningGateway()
        try g.signUp("alice")
        try g.signUp("bob", offlineEmail: true)
        let (alice, _) = try g.signIn("alice")
        let (bob, _) = try g.signIn("bob")
        try g.befriend((alice, "alice"), (bob, "bob"))
        let db = try Database(path: g.databasePath)
        let allSent = { (try? OutboxStore(db).unsentCount()) == 0 }

        _ = try bob.call("logOut")
        _ = try alice.call("send", ["to": "bob@example.com", "clientMessageId": "o1", "body": "first"])
        _ = try alice.call("send", ["to": "bob@example.com", "clientMessageId": "o2", "body": "second"])
        // Positive control: the first offline period's mail, and only one for two chats.
        #expect(g.eventually(10) { g.mails().count == 1 && allSent() })
        #expect(g.mails().count == 1)

        // Bob comes back, acknowledges the backlog and leaves again.
        let (again, _) = try g.signIn("bob")
        _ = try again.event("chat") { $0["body"] as? String == "first" }
        let last = try again.event("chat") { $0["body"] as? String == "second" }
        _ = try again.call("heartbeat", ["lastSeq": try #require(last["seq"] as? Int)])
        _ = try again.call("logOut")

        _ = try alice.call("send", ["to": "bob@example.com", "clientMessageId": "o3", "body": "third"])
        #expect(g.eventually(10) { g.mails().count == 2 })
        #expect(g.mails().last?.contains("bob@example.com") == true)
    }
}
