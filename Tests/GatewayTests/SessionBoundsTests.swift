import Foundation
@testable import Gateway
import Presence
import PresenceClient
import Testing

/// Bounded per-session resources, end to end: heartbeat enforcement (4006), the per-user
/// session limit (4007) and the replay ring's byte bound.
@Suite(.serialized) struct SessionBoundsTests {
    /// Reads until the server closes; - Returns: the `closing` notice and the close code.
    func closing(_ c: PresenceConnection) throws -> (notice: [String: Any]?, code: UInt16?) {
        var notice: [String: Any]?
        while true {
            do {
                let m = try c.next()
                if m["type"] as? String == "closing" { notice = m }
            } catch let closed as PresenceConnection.Closed {
                return (notice, closed.code)
            }
        }
    }

    @Test func aSessionThatSendsNothingForTwoHeartbeatsIsClosedWith4006() throws {
        let g = try RunningGateway { $0.presence.silenceTimeout = .seconds(1) }
        for n in ["alice", "bob"] { try g.signUp(n) }
        let (silent, _) = try g.signIn("alice")
        let (beating, _) = try g.signIn("bob")
        let started = Date()
        // Bob heartbeats every 300 ms for 2.5 s; Alice sends nothing.
        while Date().timeIntervalSince(started) < 2.5 {
            #expect(try beating.call("heartbeat", ["lastSeq": 0])["type"] as? String == "ok")
            Thread.sleep(forTimeInterval: 0.3)
        }
        let (notice, code) = try closing(silent)
        #expect(code == 4006)
        #expect(notice?["code"] as? Int == 4006)
        // Positive control: the heartbeating session is still signed in and answering.
        #expect(try beating.call("activity")["type"] as? String == "ok")
    }

    @Test func aSignInPastTheSessionLimitSignsOutTheOldestWith4007() throws {
        let g = try RunningGateway { $0.presence.maxSessionsPerUser = 2 }
        try g.signUp("alice")
        let (first, _) = try g.signIn("alice")
        let (second, _) = try g.signIn("alice")
        let (third, _) = try g.signIn("alice")
        let (notice, code) = try closing(first)
        #expect(code == 4007)
        #expect(notice?["reason"] as? String == "too_many_sessions")
        #expect(try second.call("activity")["type"] as? String == "ok")
        #expect(try third.call("activity")["type"] as? String == "ok")
    }

    @Test func theReplayRingIsBoundedInBytesAndChatsStillArriveThroughTheBacklog() throws {
        let g = try RunningGateway { $0.presence.replayByteCapacity = 4_000 }
        for n in ["alice", "bob"] { try g.signUp(n) }
        var (alice, reply) = try g.signIn("alice")
        let (bob, _) = try g.signIn("bob")
        try g.befriend((alice, "alice"), (bob, "bob"))
        let body = String(repeating: "b", count: 1_500)

        func dropAndMiss(_ chats: Int) throws -> (token: String, lastSeq: Int) {
            let token = try #require(reply["resumeToken"] as? String)
            _ = try alice.call("heartbeat", ["lastSeq": RuntimeRaceTests.highestSeq(alice)])
            let lastSeq = RuntimeRaceTests.highestSeq(alice)
            try alice.socket.send(.close, [0x03, 0xE8])
            _ = alice.socket.serverClosedConnection()
            for i in 0..<chats {
                #expect(try bob.call("send", ["to": "alice@example.com", "clientMessageId": "m\(lastSeq)-\(i)", "body": body])["type"] as? String == "ok")
            }
            return (token, lastSeq)
        }
        // Positive control: two chats (about 3 KB) fit, and the resume replays them.
        var (token, lastSeq) = try dropAndMiss(2)
        alice = try PresenceConnection(port: g.port, timeoutSeconds: 10)
        #expect(try alice.call("resume", ["resumeToken": token, "lastSeq": lastSeq])["type"] as? String == "ok")
        _ = try alice.event("chat")
        _ = try alice.event("chat")
        reply["resumeToken"] = token
        // Three chats (about 4.6 KB) do not: the resume is refused, and a fresh sign-in
        // gets all three from storage's backlog.
        (token, lastSeq) = try dropAndMiss(3)
        alice = try PresenceConnection(port: g.port, timeoutSeconds: 10)
        let refused = try alice.call("resume", ["resumeToken": token, "lastSeq": lastSeq])
        #expect(refused["code"] as? String == "resume_impossible")
        #expect(try alice.call("signIn", ["method": "password", "email": "alice@example.com",
                                          "password": RunningGateway.password, "device": "desktop"])["type"] as? String == "ok")
        for _ in 0..<3 { #expect(try alice.event("chat")["body"] as? String == body) }
    }
}

@Suite(.serialized) struct OpLimitEndToEndTests {
    @Test func aSessionPastItsOpBurstGetsRateLimitedWithRetryAfterAndOthersAreUnaffected() throws {
        let g = try RunningGateway {
            $0.presence.opBurst = 5
            $0.presence.opsPerSecond = 1
        }
        for n in ["alice", "bob"] { try g.signUp(n) }
        let (alice, _) = try g.signIn("alice")
        let (bob, _) = try g.signIn("bob")
        for _ in 0..<5 { #expect(try alice.call("activity")["type"] as? String == "ok") }
        let limited = try alice.call("activity")
        #expect(limited["code"] as? String == "rate_limited")
        #expect((limited["retryAfter"] as? Int ?? 0) >= 1)
        // Ops answered on a worker (history) spend from the same bucket.
        #expect(try alice.call("history", ["with": "bob@example.com"])["code"] as? String == "rate_limited")
        // Heartbeats still pass, and another session is not limited by Alice's flood.
        #expect(try alice.call("heartbeat", ["lastSeq": 0])["type"] as? String == "ok")
        #expect(try bob.call("activity")["type"] as? String == "ok")
        Thread.sleep(forTimeInterval: 1.1)
        #expect(try alice.call("activity")["type"] as? String == "ok")
    }
}

/// The presence thread's mailbox is bounded: a flood of ops gets `overloaded`, not memory.
@Suite(.serialized) struct MailboxBoundTests {
    @Test func opsPastTheMailboxCapacityAreRefusedOverloadedAndTheConnectionStaysUsable() throws {
        // One shard: a probe's closure runs on the last shard to answer, so with more it
        // would hold only one of them, and Alice's ops might go to another.
        let g = try RunningGateway {
            $0.presenceMailboxCapacity = 2
            $0.presenceShards = 1
        }
        try g.signUp("alice")
        let (alice, _) = try g.signIn("alice")
        // Hold the presence thread inside a probe, so posted inputs wait in the mailbox.
        let gate = DispatchSemaphore(value: 0), entered = DispatchSemaphore(value: 0)
        g.gateway.runtime.presence.post(.probe { _ in
            entered.signal()
            gate.wait()
        })
        entered.wait()
        let queued = try (0..<2).map { _ in try alice.send("activity") }
        Thread.sleep(forTimeInterval: 0.2)  // both reached the mailbox
        let refused = try alice.call("activity")
        #expect(refused["code"] as? String == "overloaded")
        #expect(refused["retryAfter"] as? Int == 1)
        // A resume refused for the same reason leaves its connection free to try again.
        let other = try PresenceConnection(port: g.port, timeoutSeconds: 10)
        #expect(try other.call("resume", ["resumeToken": "1.00112233445566778899aabbccddeeff", "lastSeq": 0])["code"] as? String == "overloaded")
        gate.signal()
        // Positive control: the two queued ops are carried out and answered.
        for id in queued { #expect(try alice.reply(to: id)["type"] as? String == "ok") }
        #expect(try other.call("signIn", ["method": "password", "email": "alice@example.com",
                                          "password": RunningGateway.password, "device": "web"])["type"] as? String == "ok")
    }
}
