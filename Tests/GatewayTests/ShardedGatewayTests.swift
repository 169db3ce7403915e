import Foundation
@testable import Gateway
import Presence
import PresenceClient
import Synchronization
import Testing

/// Presence on two shards, over real sockets, with the users placed on different shards on
/// purpose (the rest of the gateway suite runs on the machine's default, one shard per
/// core, wherever its users happen to land).
@Suite(.serialized) struct ShardedGatewayTests {
    /// A name whose address lives on `shard` of two.
    static func name(onShard shard: Int, _ prefix: String) -> String {
        let placement = ShardPlacement(count: 2, index: 0)
        return (0..<200).map { "\(prefix)\($0)" }.first { placement.home(of: UserID(email: "\($0)@example.com")!) == shard }!
    }

    static func twoShards(frozenClock: Bool = false) throws -> RunningGateway {
        try RunningGateway {
            $0.presenceShards = 2
            if frozenClock {
                $0.clock = { Instant(milliseconds: 1_800_000_000_000) }
                $0.monotonicClock = { Instant(milliseconds: 5_000_000) }
            }
        }
    }

    @Test func contactsPresenceChatsAndCallsCrossShards() throws {
        let g = try Self.twoShards()
        let ann = Self.name(onShard: 0, "ann"), ben = Self.name(onShard: 1, "ben")
        for n in [ann, ben] { try g.signUp(n) }
        let (a, aReply) = try g.signIn(ann)
        let (b, bReply) = try g.signIn(ben)
        // Each session was issued by its user's home shard.
        let sessionOf = { (reply: [String: Any]) in SessionID(UInt64(reply["session"] as? String ?? "") ?? 0) }
        #expect(sessionOf(aReply).shard == 0 && sessionOf(bReply).shard == 1)
        try g.befriend((a, ann), (b, ben))

        _ = try b.call("setStatus", ["status": "busy"])
        _ = try a.event("presence") { $0["user"] as? String == "\(ben)@example.com" && $0["status"] as? String == "busy" }

        _ = try a.call("send", ["to": "\(ben)@example.com", "clientMessageId": "x1", "body": "across"])
        let ack = try a.event("chatAccepted")
        #expect(ack["receipt"] as? String == "delivered")
        let chat = try b.event("chat")
        #expect(chat["body"] as? String == "across")

        let invite = try a.call("invite", ["to": "\(ben)@example.com", "payload": "offer"])
        let call = invite["call"] ?? ""
        _ = try b.event("callIncoming")
        _ = try b.call("accept", ["call": call, "payload": "answer"])
        _ = try a.event("callAccepted")
        _ = try a.call("signal", ["call": call, "payload": "ice"])
        _ = try b.event("callSignal")
        _ = try b.call("hangUp", ["call": call])
        let ended = try a.event("callEnded")
        #expect(ended["reason"] as? String == "hungUp")
        // Both shards hold one session each.
        #expect(g.eventually { RuntimeRaceTests.counts(g).sessions == 2 })
    }

    /// Hidden on one shard looks, to a contact on the other, byte for byte like logged out.
    func annSees(_ benLeaves: (PresenceConnection) throws -> Void) throws -> [String] {
        let g = try Self.twoShards(frozenClock: true)
        let ann = Self.name(onShard: 0, "ann"), ben = Self.name(onShard: 1, "ben")
        for n in [ann, ben] { try g.signUp(n) }
        let (a, _) = try g.signIn(ann)
        let (b, _) = try g.signIn(ben)
        try g.befriend((a, ann), (b, ben))
        let start = a.transcript.count
        try benLeaves(b)
        _ = try a.event("presence") { $0["status"] as? String == "offline" }
        _ = try a.call("send", ["to": "\(ben)@example.com", "clientMessageId": "h1", "body": "there?"])
        _ = try a.event("chatAccepted")
        return Array(a.transcript[start...])
    }

    @Test func hiddenOnAnotherShardIsByteIdenticalToLoggedOut() throws {
        let hidden = try annSees { _ = try $0.call("setStatus", ["status": "hidden"]) }
        let gone = try annSees { _ = try $0.call("logOut") }
        #expect(hidden.count >= 3)  // the presence, the send's reply, the ack
        #expect(hidden == gone)
    }

    @Test func theOperatorsSessionListCoversEveryShard() throws {
        let g = try Self.twoShards()
        let ann = Self.name(onShard: 0, "ann"), ben = Self.name(onShard: 1, "ben")
        for n in [ann, ben] { try g.signUp(n) }
        _ = try g.signIn(ann)
        _ = try g.signIn(ben)
        let list = Mutex<String>("")
        let done = DispatchSemaphore(value: 0)
        g.gateway.runtime.presence.post(.inspect(.sessions) { response in
            list.withLock { $0 = String(decoding: response.body, as: UTF8.self) }
            done.signal()
        })
        #expect(done.wait(timeout: .now() + 5) == .success)
        let body = list.withLock { $0 }
        #expect(body.contains("\(ann)@example.com") && body.contains("\(ben)@example.com"))
    }

    /// A subscriber's session lives on shard 0; a watched user signed in on shard 1 shows
    /// present in the subscription's first snapshot (shard 0 asked the user's home at the
    /// subscriber's sign-in), then every change follows.
    @Test func aSubscriberOnOneShardWatchesAUserOnTheOther() throws {
        let ben = Self.name(onShard: 1, "ben")
        let g = try RunningGateway {
            $0.presenceShards = 2
            $0.subscribers["dash-key"] = .init(name: "dashboard", allowed: [UserID(email: "\(ben)@example.com")!])
        }
        try g.signUp(ben)
        let (b, _) = try g.signIn(ben)
        _ = try b.call("setStatus", ["status": "busy"])
        let dash = try PresenceConnection(port: g.port)
        let reply = try dash.call("signIn", ["method": "subscriber", "key": "dash-key"])
        #expect(reply["type"] as? String == "ok")
        #expect(SessionID(UInt64(reply["session"] as? String ?? "") ?? .max).shard == 0)
        _ = try dash.call("subscribe", ["users": ["\(ben)@example.com"]])
        let snapshot = try dash.event("subscriptionSnapshot")
        let entries = snapshot["users"] as? [[String: Any]] ?? []
        #expect(entries.first?["user"] as? String == "\(ben)@example.com")
        #expect(entries.first?["status"] as? String == "busy", "\(snapshot)")  // current, not the mirror's "never seen"
        _ = try b.call("setStatus", ["status": "online"])
        _ = try dash.event("presence") { $0["status"] as? String == "online" }
        _ = try b.call("logOut")
        let gone = try dash.event("presence") { $0["status"] as? String == "offline" }
        #expect(gone["user"] as? String == "\(ben)@example.com")
    }
}
