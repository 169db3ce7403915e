import Foundation
@testable import Gateway
import Presence
import PresenceClient
import Storage
import Testing

/// Sign-in, presence, chats and account changes end to end: real sockets, a real SQLite
/// file, the real binary's wiring.
@Suite(.serialized) struct SessionTests {
    @Test func passwordSignInGivesProfileThenSnapshot() throws {
        let g = try RunningGateway()
        try g.signUp("alice")
        let (alice, reply) = try g.signIn("alice", staySignedIn: true)
        let profile = try #require(reply["profile"] as? [String: Any])
        #expect(profile["id"] as? String == "alice@example.com")
        #expect(profile["firstName"] as? String == "Alice")
        #expect((reply["deviceToken"] as? String)?.isEmpty == false)
        let snapshot = try alice.next()
        #expect(snapshot["type"] as? String == "snapshot")
        #expect(snapshot["seq"] as? Int == 1)
    }

    @Test func wrongPasswordAndUnknownAccountGetTheSameError() throws {
        let g = try RunningGateway()
        try g.signUp("alice")
        let c = try PresenceConnection(port: g.port)
        let wrong = try c.call("signIn", ["method": "password", "email": "alice@example.com", "password": "Nope#12345", "device": "web"])
        let unknown = try c.call("signIn", ["method": "password", "email": "nobody@example.com", "password": "Nope#12345", "device": "web"])
        #expect(wrong["code"] as? String == "invalid_credentials")
        #expect(unknown["code"] as? String == wrong["code"] as? String)
        #expect(unknown["message"] as? String == wrong["message"] as? String)
        // Still connected, still able to sign in.
        _ = try c.call("signIn", ["method": "password", "email": "alice@example.com", "password": RunningGateway.password, "device": "web"])
    }

    @Test func repeatedFailuresAreRateLimitedWithRetryAfter() throws {
        let g = try RunningGateway()
        try g.signUp("alice")
        let c = try PresenceConnection(port: g.port)
        var last: [String: Any] = [:]
        for _ in 0..<6 {
            last = try c.call("signIn", ["method": "password", "email": "alice@example.com", "password": "Wrong#12345", "device": "web"])
        }
        #expect(last["code"] as? String == "rate_limited")
        #expect((last["retryAfter"] as? Int ?? 0) > 0)
    }

    @Test func presenceFlowsBetweenContactsOnly() throws {
        let g = try RunningGateway()
        for n in ["alice", "bob", "eve"] { try g.signUp(n) }
        let (alice, _) = try g.signIn("alice")
        let (bob, _) = try g.signIn("bob")
        let (eve, _) = try g.signIn("eve")
        try g.befriend((alice, "alice"), (bob, "bob"))
        _ = try bob.call("setStatus", ["status": "busy"])
        let seen = try alice.event("presence") { $0["status"] as? String == "busy" }
        #expect(seen["user"] as? String == "bob@example.com")
        // Eve is no contact: she learns nothing, and chatting is refused.
        let refused = try eve.call("send", ["to": "bob@example.com", "clientMessageId": "e1", "body": "hi"])
        #expect(refused["type"] as? String == "error")
        _ = try eve.call("activity")
        #expect(!eve.events.contains { $0["type"] as? String == "presence" })
    }

    @Test func mobileOnlyUserShowsMobile() throws {
        let g = try RunningGateway()
        for n in ["alice", "bob"] { try g.signUp(n) }
        let (alice, _) = try g.signIn("alice")
        let (bob, _) = try g.signIn("bob", device: "mobile")
        try g.befriend((alice, "alice"), (bob, "bob"))
        _ = try bob.call("activity")
        let (alice2, _) = try g.signIn("alice", device: "web")
        let snapshot = try alice2.event("snapshot")
        let contacts = try #require(snapshot["contacts"] as? [[String: Any]])
        #expect(contacts.first { $0["user"] as? String == "bob@example.com" }?["status"] as? String == "mobile")
        _ = alice
    }

    @Test func chatIsCommittedBeforeItsAckAndDeliveredLive() throws {
        let g = try RunningGateway()
        for n in ["alice", "bob"] { try g.signUp(n) }
        let (alice, _) = try g.signIn("alice")
        let (bob, _) = try g.signIn("bob")
        try g.befriend((alice, "alice"), (bob, "bob"))
        let ack = try alice.call("send", ["to": "bob@example.com", "clientMessageId": "m-1", "body": "hello bob"])
        #expect(ack["type"] as? String == "ok")
        #expect(ack["receipt"] as? String == "delivered")
        // By the time the ack arrived the row was committed.
        let db = try Database(path: g.databasePath)
        let stored = try MessageStore(db).history(between: "alice@example.com", and: "bob@example.com", limit: 10)
        #expect(stored.map(\.body) == ["hello bob"])
        let chat = try bob.event("chat")
        #expect(chat["body"] as? String == "hello bob")
        #expect(chat["from"] as? String == "alice@example.com")
        // A retry with the same client ID is not stored twice.
        _ = try alice.call("send", ["to": "bob@example.com", "clientMessageId": "m-1", "body": "hello bob"])
        #expect(try MessageStore(db).history(between: "alice@example.com", and: "bob@example.com", limit: 10).count == 1)
    }

    @Test func offlineRecipientGetsMessagesInOrderAtNextSignInAndOneMail() throws {
        let g = try RunningGateway()
        try g.signUp("alice")
        try g.signUp("bob", offlineEmail: true)
        let (alice, _) = try g.signIn("alice")
        do {
            let (bob, _) = try g.signIn("bob")
            try g.befriend((alice, "alice"), (bob, "bob"))
            _ = try bob.call("logOut")
        }
        for i in 1...3 {
            let ack = try alice.call("send", ["to": "bob@example.com", "clientMessageId": "o-\(i)", "body": "message \(i)"])
            #expect(ack["receipt"] as? String == "stored")
        }
        let (bob, _) = try g.signIn("bob")
        var bodies: [String] = []
        for _ in 0..<3 { bodies.append(try bob.event("chat")["body"] as? String ?? "") }
        #expect(bodies == ["message 1", "message 2", "message 3"])
        // One coalesced notification, not one per message.
        #expect(g.eventually { g.mails().contains { $0.contains("bob@example.com") } })
        Thread.sleep(forTimeInterval: 1.2)
        #expect(g.mails().filter { $0.contains("To: bob@example.com") }.count == 1)
    }

    @Test func badInputGetsErrorsAndKeepsTheConnection() throws {
        let g = try RunningGateway()
        try g.signUp("alice")
        let c = try PresenceConnection(port: g.port)
        try c.socket.send(text: "{not json")
        #expect(try c.next()["code"] as? String == "malformed_json")
        try c.socket.send(text: "[1,2]")
        #expect(try c.next()["code"] as? String == "not_an_object")
        #expect(try c.call("fly")["code"] as? String == "unknown_op")
        #expect(try c.call("setStatus", ["status": "busy"])["code"] as? String == "not_signed_in")
        #expect(try c.call("signIn", ["method": "password", "email": "alice@example.com", "password": "x", "device": "desktop", "extra": 1])["code"] as? String == "unknown_field")
        try c.socket.send(.binary, [1, 2, 3])
        #expect(try c.next()["code"] as? String == "binary_frame")
        let ok = try c.call("signIn", ["method": "password", "email": "alice@example.com", "password": RunningGateway.password, "device": "desktop"])
        #expect(ok["type"] as? String == "ok")
    }

    @Test func noSignInWithinTheAllowanceClosesWith4005() throws {
        let g = try RunningGateway { $0.signInTimeoutSeconds = 1 }
        let c = try PresenceConnection(port: g.port)
        var closed: PresenceConnection.Closed?
        do { while true { _ = try c.next() } } catch let e as PresenceConnection.Closed { closed = e }
        #expect(closed?.code == 4005)
    }

    @Test func connectionWithoutSubprotocolIsRefused() throws {
        let g = try RunningGateway()
        let c = try WebSocketClient(port: g.port)
        #expect(throws: WebSocketClient.Failure.refused(400)) { try c.upgrade(path: "/ws") }
    }
}
