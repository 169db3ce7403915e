import Foundation
@testable import Gateway
import Presence
import PresenceClient
import Storage
import Testing

/// Contacts over real sockets: what removal stops, who may read history, requests to
/// addresses without an account, and the view a new contact starts from.
@Suite(.serialized) struct ContactTests {
    static func about(_ name: String) -> ([String: Any]) -> Bool {
        { $0["user"] as? String == "\(name)@example.com" }
    }

    /// Presence events about `name` among the raw messages a connection read from `start` on.
    static func presence(of name: String, in c: PresenceConnection, from start: Int) -> [String] {
        c.transcript[start...].filter { $0.contains(#""type":"presence""#) && $0.contains("\"\(name)@example.com\"") }
    }

    /// presence-rules.md, Contacts: removal ends a call between the two at once
    /// (`contactRemoved`), so an answer that comes later neither connects nor reveals the
    /// hidden callee to the ex-contact.
    @Test func removalEndsTheirCallAndALateAnswerRevealsNothingToTheExContact() throws {
        let g = try RunningGateway()
        for n in ["alice", "bob", "carol"] { try g.signUp(n) }
        let (alice, _) = try g.signIn("alice")
        let (bob, _) = try g.signIn("bob")
        let (carol, _) = try g.signIn("carol")
        try g.befriend((alice, "alice"), (bob, "bob"))
        try g.befriend((carol, "carol"), (bob, "bob"))
        _ = try bob.call("setStatus", ["status": "hidden"])
        _ = try alice.event("presence") { Self.about("bob")($0) && $0["status"] as? String == "offline" }
        _ = try carol.event("presence") { Self.about("bob")($0) && $0["status"] as? String == "offline" }

        let invite = try alice.call("invite", ["to": "bob@example.com", "payload": "offer"])
        let call = try #require(invite["call"] as? Int)
        _ = try bob.event("callIncoming")
        _ = try alice.call("removeContact", ["user": "bob@example.com"])
        #expect(try alice.event("callEnded")["reason"] as? String == "contactRemoved")
        #expect(try bob.event("callEnded")["reason"] as? String == "contactRemoved")
        _ = try alice.event("contactRemoved")
        _ = try bob.event("contactRemoved")
        let start = alice.transcript.count

        #expect(try bob.call("accept", ["call": call, "payload": "answer"])["code"] as? String == "unknown_call")
        _ = try bob.call("setStatus", ["status": "busy"])
        // Positive control: a current contact is told.
        #expect(try carol.event("presence", where: Self.about("bob"))["status"] as? String == "busy")
        _ = try alice.call("activity")  // anything sent to alice before this reply has been read
        #expect(Self.presence(of: "bob", in: alice, from: start).isEmpty)
        #expect(!alice.transcript[start...].contains { $0.contains("callAccepted") })
    }

    /// README §4: `history` needs a current accepted contact; a former one reads nothing.
    @Test func historyNeedsACurrentContact() throws {
        let g = try RunningGateway()
        for n in ["alice", "bob", "carol"] { try g.signUp(n) }
        let (alice, _) = try g.signIn("alice")
        let (bob, _) = try g.signIn("bob")
        try g.befriend((alice, "alice"), (bob, "bob"))
        _ = try alice.call("send", ["to": "bob@example.com", "clientMessageId": "h1", "body": "hi"])
        // Positive control: a contact reads the conversation.
        let page = try alice.call("history", ["with": "bob@example.com"])
        #expect((page["messages"] as? [[String: Any]])?.map { $0["body"] as? String } == ["hi"])

        for stranger in ["carol@example.com", "nobody@example.com"] {
            let r = try alice.call("history", ["with": stranger])
            #expect(r["type"] as? String == "error")
            #expect(r["code"] as? String == "not_a_contact")
        }
        #expect(try alice.call("history", ["with": "alice@example.com"])["code"] as? String == "cannot_target_self")

        _ = try bob.call("removeContact", ["user": "alice@example.com"])
        _ = try alice.event("contactRemoved")
        #expect(g.eventually { (try? alice.call("history", ["with": "bob@example.com"])["code"] as? String) == "not_a_contact" })
    }

    /// A request to an address without an account answers exactly as one to a logged-out
    /// account, is stored (it survives a restart), and becomes an ordinary request when the
    /// address signs up.
    @Test func requestToAnAddressWithoutAnAccountIsStoredAndBecomesARealRequestAtSignUp() throws {
        var directory: URL
        do {
            let g = try RunningGateway()
            g.keepsDirectory = true
            directory = g.directory
            for n in ["alice", "bob"] { try g.signUp(n) }
            let (alice, _) = try g.signIn("alice")
            _ = try alice.event("snapshot")
            let start = alice.transcript.count
            _ = try alice.call("requestContact", ["user": "bob@example.com"])  // an account, logged out
            _ = try alice.event("contactRequestSent")
            _ = try alice.call("requestContact", ["user": "nobody@example.com"])  // no account
            _ = try alice.event("contactRequestSent")
            let seen = alice.transcript[start...].map {
                $0.replacingOccurrences(of: "bob@", with: "X@").replacingOccurrences(of: "nobody@", with: "X@")
                    .replacingOccurrences(of: #""id":"r\d+""#, with: #""id":"?""#, options: .regularExpression)
                    .replacingOccurrences(of: #""seq":\d+"#, with: #""seq":?"#, options: .regularExpression)
            }
            #expect(seen.count == 4)
            #expect(seen[0...1] == seen[2...3])
            _ = try alice.call("activity")
        }
        // The same data directory, a new process state.
        let g = try RunningGateway(directory: directory)
        let (alice, _) = try g.signIn("alice")
        let snapshot = try alice.event("snapshot")
        #expect((snapshot["outgoing"] as? [String])?.sorted() == ["bob@example.com", "nobody@example.com"])

        try g.signUp("nobody")
        let (nobody, _) = try g.signIn("nobody")
        #expect(try nobody.event("snapshot")["incoming"] as? [String] == ["alice@example.com"])
        #expect(try nobody.call("acceptContact", ["user": "alice@example.com"])["type"] as? String == "ok")
        #expect(try alice.event("contactAdded")["user"] as? String == "nobody@example.com")
        let db = try Database(path: g.databasePath)
        #expect(g.eventually { (try? ContactStore(db).areContacts("alice@example.com", "nobody@example.com")) == true })
        // Withdrawing such a request removes it from storage too.
        _ = try alice.call("requestContact", ["user": "ghost@example.com"])
        _ = try alice.event("contactRequestSent")
        #expect(g.eventually { (try? ContactStore(db).contacts(of: "alice@example.com").map(\.peerID).contains("ghost@example.com")) == true })
        _ = try alice.call("removeContact", ["user": "ghost@example.com"])
        #expect(g.eventually { (try? ContactStore(db).contacts(of: "alice@example.com").map(\.peerID).contains("ghost@example.com")) == false })
    }

    /// presence-rules.md, Contacts: `contactAdded` carries the published (debounced) view; a
    /// change still inside its window follows as a `presence` event when the window ends.
    @Test func contactAddedCarriesThePublishedViewAndAPendingChangeFollows() throws {
        let g = try RunningGateway { $0.presence.debounce = .seconds(5) }
        for n in ["alice", "bob"] { try g.signUp(n) }
        let (alice, _) = try g.signIn("alice")
        _ = try alice.call("requestContact", ["user": "bob@example.com"])
        let (bob, _) = try g.signIn("bob")
        _ = try bob.call("acceptContact", ["user": "alice@example.com"])  // inside bob's first window
        let added = try alice.event("contactAdded")
        #expect(added["user"] as? String == "bob@example.com")
        #expect(added["status"] as? String == "offline")
        let settled = try alice.event("presence", where: Self.about("bob"))
        #expect(settled["status"] as? String == "online")
    }

    /// The same race with a hidden acceptor: `contactAdded` reads offline and nothing
    /// follows, as for a logged-out user (the test above is the positive control that a
    /// follow-up would have arrived within the window).
    @Test func aHiddenAcceptorIsOfflineInContactAddedAndNothingFollows() throws {
        let g = try RunningGateway { $0.presence.debounce = .seconds(2) }
        for n in ["alice", "bob"] { try g.signUp(n) }
        do {
            let (bob, _) = try g.signIn("bob")
            _ = try bob.call("setStatus", ["status": "hidden"])  // persisted for the next sign-in
            _ = try bob.call("logOut")
        }
        Thread.sleep(forTimeInterval: 2.5)  // bob's going-offline settles (lastSeen) first
        let (alice, _) = try g.signIn("alice")
        _ = try alice.call("requestContact", ["user": "bob@example.com"])
        let (bob, _) = try g.signIn("bob")
        #expect(try bob.event("snapshot")["status"] as? String == "hidden")
        _ = try bob.call("acceptContact", ["user": "alice@example.com"])
        let added = try alice.event("contactAdded")
        #expect(added["user"] as? String == "bob@example.com")
        #expect(added["status"] as? String == "offline")
        #expect(added["lastSeen"] is Int)
        let start = alice.transcript.count
        Thread.sleep(forTimeInterval: 3)  // past bob's window
        _ = try alice.call("activity")
        #expect(Self.presence(of: "bob", in: alice, from: start).isEmpty)
    }
}
