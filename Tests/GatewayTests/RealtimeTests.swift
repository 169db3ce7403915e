import Foundation
@testable import Gateway
import Presence
import PresenceClient
import Testing

/// Resume, calls and subscribers over real sockets.
@Suite(.serialized) struct RealtimeTests {
    @Test func reconnectWithinGraceResumesWithMissedEventsAndNoFlap() throws {
        // A short grace period, so the test can wait past it: the "no flap" check below
        // would hold trivially inside a 30 s grace period.
        let g = try RunningGateway { $0.presence.disconnectGrace = .milliseconds(1500) }
        for n in ["alice", "bob"] { try g.signUp(n) }
        let (alice, _) = try g.signIn("alice")
        var (bob, reply) = try g.signIn("bob")
        try g.befriend((alice, "alice"), (bob, "bob"))
        let token = try #require(reply["resumeToken"] as? String)
        _ = try bob.call("heartbeat", ["lastSeq": 3])
        let lastSeq = bob.transcript.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .compactMap { $0["seq"] as? Int }.max() ?? 0
        // Bob's connection drops; Alice changes status meanwhile.
        try bob.socket.send(.close, [0x03, 0xE8])
        _ = bob.socket.serverClosedConnection()
        _ = try alice.call("setStatus", ["status": "busy"])
        bob = try PresenceConnection(port: g.port)
        reply = try bob.call("resume", ["resumeToken": token, "lastSeq": lastSeq])
        #expect(reply["type"] as? String == "ok")
        let missed = try bob.event("presence") { $0["user"] as? String == "alice@example.com" }
        #expect(missed["status"] as? String == "busy")
        #expect((missed["seq"] as? Int ?? 0) > lastSeq)
        // Past the grace period of the dropped connection, Alice has still never seen Bob go
        // offline: the resumed session carried on.
        Thread.sleep(forTimeInterval: 2.0)
        _ = try alice.call("activity")
        let sawBobOffline = { alice.events.contains { $0["user"] as? String == "bob@example.com" && $0["status"] as? String == "offline" } }
        #expect(!sawBobOffline())
        // Positive control: the same drop without a resume shows Bob offline to Alice once
        // the grace period ends, so the check above could have failed.
        try bob.socket.send(.close, [0x03, 0xE8])
        _ = bob.socket.serverClosedConnection()
        let offline = try alice.event("presence") { $0["user"] as? String == "bob@example.com" && $0["status"] as? String == "offline" }
        #expect(offline["status"] as? String == "offline")
    }

    @Test func resumeWithABadTokenSaysSignInAgain() throws {
        let g = try RunningGateway()
        let c = try PresenceConnection(port: g.port)
        let r = try c.call("resume", ["resumeToken": "99.00112233445566778899aabbccddeeff", "lastSeq": 0])
        #expect(r["type"] as? String == "error")
        let ok = try c.call("signIn", ["method": "password", "email": "x@example.com", "password": "Nope#12345", "device": "web"])
        #expect(ok["code"] as? String == "invalid_credentials")  // still usable after the failed resume
    }

    @Test func callSignallingMakesBothBusyAndEndsCleanly() throws {
        let g = try RunningGateway()
        for n in ["alice", "bob", "carol"] { try g.signUp(n) }
        let (alice, _) = try g.signIn("alice")
        let (bob, _) = try g.signIn("bob")
        let (carol, _) = try g.signIn("carol")
        try g.befriend((alice, "alice"), (bob, "bob"))
        try g.befriend((carol, "carol"), (alice, "alice"))
        let invite = try alice.call("invite", ["to": "bob@example.com", "payload": "v=0 offer"])
        let call = try #require(invite["call"])
        let incoming = try bob.event("callIncoming")
        #expect(incoming["payload"] as? String == "v=0 offer")
        _ = try bob.call("accept", ["call": call, "payload": "v=0 answer"])
        let accepted = try alice.event("callAccepted")
        #expect(accepted["payload"] as? String == "v=0 answer")
        let busy = try carol.event("presence") { $0["user"] as? String == "alice@example.com" && $0["status"] as? String == "busy" }
        #expect(busy["status"] as? String == "busy")
        _ = try alice.call("signal", ["call": call, "payload": "candidate:1"])
        #expect(try bob.event("callSignal")["payload"] as? String == "candidate:1")
        _ = try bob.call("hangUp", ["call": call])
        _ = try alice.event("callEnded")
        let back = try carol.event("presence") { $0["user"] as? String == "alice@example.com" && $0["status"] as? String == "online" }
        #expect(back["status"] as? String == "online")
    }

    @Test func droppedCallerDoesNotLeaveAnyoneBusy() throws {
        let g = try RunningGateway { $0.presence.disconnectGrace = .milliseconds(200) }
        for n in ["alice", "bob"] { try g.signUp(n) }
        let (alice, _) = try g.signIn("alice")
        let (bob, _) = try g.signIn("bob")
        try g.befriend((alice, "alice"), (bob, "bob"))
        let call = try #require(try alice.call("invite", ["to": "bob@example.com", "payload": "o"])["call"])
        _ = try bob.event("callIncoming")
        _ = try bob.call("accept", ["call": call, "payload": "a"])
        try alice.socket.send(.close, [0x03, 0xE8])
        let ended = try bob.event("callEnded")
        #expect(ended["reason"] as? String != nil)
        // Busy while in the call, then offline once the grace period ends: never stuck Busy.
        let status = try bob.event("presence") { $0["user"] as? String == "alice@example.com" && $0["status"] as? String != "busy" }
        #expect(status["status"] as? String == "offline")
    }

    @Test func subscriberGetsSnapshotAndDeltasAndIsNotPresence() throws {
        let g = try RunningGateway { config in
            config.subscribers["dash-key"] = .init(name: "clinic dashboard", allowed: [UserID(email: "alice@example.com")!])
        }
        try g.signUp("alice")
        let dash = try PresenceConnection(port: g.port)
        let reply = try dash.call("signIn", ["method": "subscriber", "key": "dash-key"])
        #expect(reply["type"] as? String == "ok")
        _ = try dash.call("subscribe", ["users": ["alice@example.com"]])
        let snapshot = try dash.event("subscriptionSnapshot")
        #expect(String(describing: snapshot).contains("alice@example.com"))
        let (alice, _) = try g.signIn("alice")
        let online = try dash.event("presence") { $0["user"] as? String == "alice@example.com" }
        #expect(online["status"] as? String == "online")
        _ = try alice.call("setStatus", ["status": "busy"])
        #expect(try dash.event("presence") { $0["status"] as? String == "busy" }["user"] as? String == "alice@example.com")
        let bad = try PresenceConnection(port: g.port)
        #expect(try bad.call("signIn", ["method": "subscriber", "key": "wrong"])["type"] as? String == "error")
    }

    /// What a subscriber may send, as the dispatch sorts the decoded ops: the four
    /// commands it may give, and every other command and account op refused with
    /// `wrong_session_kind`. A user is refused the subscriber's two, by the core.
    @Test func eachSessionKindIsRefusedTheOtherKindsOps() throws {
        let g = try RunningGateway { config in
            config.subscribers["dash-key"] = .init(name: "clinic dashboard", allowed: [UserID(email: "alice@example.com")!])
        }
        for n in ["alice", "bob"] { try g.signUp(n) }
        let (alice, _) = try g.signIn("alice")
        let dash = try PresenceConnection(port: g.port)
        #expect(try dash.call("signIn", ["method": "subscriber", "key": "dash-key"])["type"] as? String == "ok")
        let userOps: [(String, [String: Any])] = [
            ("setStatus", ["status": "busy"]), ("activity", [:]), ("requestContact", ["user": "bob@example.com"]),
            ("acceptContact", ["user": "bob@example.com"]), ("declineContact", ["user": "bob@example.com"]),
            ("removeContact", ["user": "bob@example.com"]),
            ("send", ["to": "alice@example.com", "clientMessageId": "m1", "body": "hi"]),
            ("invite", ["to": "alice@example.com"]), ("ringing", ["call": 1]), ("accept", ["call": 1]), ("decline", ["call": 1]),
            ("cancel", ["call": 1]), ("hangUp", ["call": 1]), ("signal", ["call": 1, "payload": "x"]),
            ("history", ["with": "alice@example.com"]), ("updateProfile", ["firstName": "Dash"]),
            ("changePassword", ["currentPassword": "x", "newPassword": "Another-pass-1"]), ("deleteAccount", ["password": "x"]),
        ]
        for (op, fields) in userOps {
            #expect(try dash.call(op, fields)["code"] as? String == "wrong_session_kind", "\(op)")
        }
        // The subscriber's own ops go through (and the refusals above changed nothing).
        #expect(try dash.call("subscribe", ["users": ["alice@example.com"]])["type"] as? String == "ok")
        #expect(try dash.call("heartbeat", ["lastSeq": 0])["type"] as? String == "ok")
        #expect(try dash.call("unsubscribe", ["users": ["alice@example.com"]])["type"] as? String == "ok")
        for op in ["subscribe", "unsubscribe"] {
            #expect(try alice.call(op, ["users": ["alice@example.com"]])["code"] as? String == "wrong_session_kind", "\(op)")
        }
        #expect(try alice.call("setStatus", ["status": "busy"])["type"] as? String == "ok")
        // Logging out ends the subscriber's session: `ok`, then close 4000.
        #expect(try dash.call("logOut")["type"] as? String == "ok")
        var closed: PresenceConnection.Closed?
        do { while true { _ = try dash.next() } } catch let c as PresenceConnection.Closed { closed = c }
        #expect(closed?.code == 4000)
    }
}
