import Foundation
@testable import Gateway
import Presence
import PresenceClient
import Testing

/// "Hidden means offline to everyone else": what a contact receives about a hidden user is
/// byte for byte what it receives about a logged-out user, until the hidden user acts
/// toward that contact.
@Suite(.serialized) struct HiddenTests {
    /// Runs one scenario on a fresh gateway whose clock is frozen, so timestamps match.
    /// - Parameter bobLeaves: how Bob disappears (hides, or logs out).
    /// - Returns: every message Alice received after Bob left, as raw text.
    func aliceTranscript(_ bobLeaves: (PresenceConnection) throws -> Void, bobGotChat: inout Bool) throws -> [String] {
        let g = try RunningGateway {
            $0.clock = { Instant(milliseconds: 1_800_000_000_000) }
            $0.monotonicClock = { Instant(milliseconds: 5_000_000) }
        }
        for n in ["alice", "bob"] { try g.signUp(n) }
        let (alice, _) = try g.signIn("alice")
        let (bob, _) = try g.signIn("bob")
        try g.befriend((alice, "alice"), (bob, "bob"))
        let start = alice.transcript.count
        try bobLeaves(bob)
        _ = try alice.event("presence") { $0["status"] as? String == "offline" }
        // Alice writes and calls; the receipt and the call must not tell hidden from gone.
        _ = try alice.call("send", ["to": "bob@example.com", "clientMessageId": "h1", "body": "are you there?"])
        let invite = try alice.call("invite", ["to": "bob@example.com", "payload": "sdp-offer"])
        _ = try alice.call("cancel", ["call": invite["call"] ?? ""])  // the canceller gets only the reply
        _ = try alice.call("activity")
        var chatSeen = false
        if let got = try? bob.event("chat") { chatSeen = got["body"] as? String == "are you there?" }
        bobGotChat = chatSeen
        return Array(alice.transcript[start...])
    }

    @Test func hiddenUserIsByteIdenticalToALoggedOutUser() throws {
        var hiddenBobGotChat = false
        var goneBobGotChat = false
        let hidden = try aliceTranscript({ bob in _ = try bob.call("setStatus", ["status": "hidden"]) }, bobGotChat: &hiddenBobGotChat)
        let gone = try aliceTranscript({ bob in _ = try bob.call("logOut") }, bobGotChat: &goneBobGotChat)
        #expect(hidden.count > 3)
        #expect(hidden == gone)
        // Yet the hidden user still received the chat, live.
        #expect(hiddenBobGotChat)
        #expect(!goneBobGotChat)
    }

    @Test func replyingRevealsTheHiddenUserToThatContactOnly() throws {
        let g = try RunningGateway()
        for n in ["alice", "bob", "carol"] { try g.signUp(n) }
        let (alice, _) = try g.signIn("alice")
        let (bob, _) = try g.signIn("bob")
        let (carol, _) = try g.signIn("carol")
        try g.befriend((alice, "alice"), (bob, "bob"))
        try g.befriend((carol, "carol"), (bob, "bob"))
        _ = try bob.call("setStatus", ["status": "hidden"])
        _ = try alice.event("presence") { $0["user"] as? String == "bob@example.com" && $0["status"] as? String == "offline" }
        _ = try carol.event("presence") { $0["user"] as? String == "bob@example.com" && $0["status"] as? String == "offline" }
        _ = try bob.call("send", ["to": "alice@example.com", "clientMessageId": "r1", "body": "here"])
        let revealed = try alice.event("presence") { $0["user"] as? String == "bob@example.com" && $0["status"] as? String != "offline" }
        #expect(revealed["status"] as? String == "online")
        _ = try carol.call("activity")
        #expect(!carol.events.contains { $0["user"] as? String == "bob@example.com" && $0["status"] as? String == "online" })
    }

    /// presence-rules.md: choosing Hidden again ends the reveal, and the contact is told
    /// offline with the same `lastSeen` as when the user first hid.
    @Test func choosingHiddenAgainHidesFromTheContactAReplyRevealedTo() throws {
        let g = try RunningGateway()
        for n in ["alice", "bob"] { try g.signUp(n) }
        let (alice, _) = try g.signIn("alice")
        let (bob, _) = try g.signIn("bob")
        try g.befriend((alice, "alice"), (bob, "bob"))
        let aboutBob: ([String: Any]) -> Bool = { $0["user"] as? String == "bob@example.com" }
        _ = try bob.call("setStatus", ["status": "hidden"])
        let hid = try alice.event("presence") { aboutBob($0) && $0["status"] as? String == "offline" }
        let lastSeen = try #require(hid["lastSeen"] as? Int)
        _ = try bob.call("send", ["to": "alice@example.com", "clientMessageId": "r1", "body": "here"])
        _ = try alice.event("presence") { aboutBob($0) && $0["status"] as? String == "online" }
        #expect(try bob.call("setStatus", ["status": "hidden"])["type"] as? String == "ok")
        let again = try alice.event("presence", where: aboutBob)
        #expect(again["status"] as? String == "offline")
        #expect(again["lastSeen"] as? Int == lastSeen)
    }

    /// What the sender of a burst of chats reads, raw, when the recipient has hidden or
    /// logged out; the clock is frozen so timestamps match.
    func senderTranscript(recipientHides: Bool) throws -> [String] {
        let g = try RunningGateway { $0.clock = { Instant(milliseconds: 1_800_000_000_000) } }
        for n in ["alice", "bob"] { try g.signUp(n) }
        let (alice, _) = try g.signIn("alice")
        let (bob, _) = try g.signIn("bob")
        try g.befriend((alice, "alice"), (bob, "bob"))
        _ = try bob.call(recipientHides ? "setStatus" : "logOut", recipientHides ? ["status": "hidden"] : [:])
        _ = try alice.event("presence") { $0["status"] as? String == "offline" }
        let start = alice.transcript.count
        let ids = try (1...5).map { try alice.send("send", ["to": "bob@example.com", "clientMessageId": "b\($0)", "body": "note \($0)"]) }
        for id in ids { _ = try alice.reply(to: id) }
        for _ in ids { _ = try alice.event("chatAccepted") }
        _ = try alice.call("activity")
        return Array(alice.transcript[start...])
    }

    /// The sender is acknowledged first on commit, whether or not the recipient gets a live
    /// copy, so a hidden recipient and a logged-out one give the sender the same replies in
    /// the same order.
    @Test func sendersRepliesAreIdenticalForAHiddenAndALoggedOutRecipient() throws {
        let hidden = try senderTranscript(recipientHides: true)
        let gone = try senderTranscript(recipientHides: false)
        #expect(hidden == gone)
        #expect(hidden.count == 11)
        // Each reply comes before its `chatAccepted` event.
        for n in 1...5 {
            let reply = hidden.firstIndex { $0.contains(#""clientMessageId":"b\#(n)""#) && !$0.contains(#""seq""#) }
            let event = hidden.firstIndex { $0.contains(#""clientMessageId":"b\#(n)""#) && $0.contains(#""seq""#) }
            #expect(reply != nil && event != nil && reply! < event!)
        }
    }
}
