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
}
