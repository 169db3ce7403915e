import Foundation
@testable import Gateway
import Presence
import PresenceClient
import Testing

/// IDs that stay unique across a cluster (`NodeQualifier`, Protocol/README.md "IDs across
/// a cluster"): a node with an id writes it into its sessions, resume tokens and calls,
/// and a resume token of another node is as unknown as an expired one. A single node keeps
/// the plain forms (every other test, and the replayed examples, show those).
@Suite(.serialized) struct NodeQualifiedIDTests {
    @Test func aClusterNodesSessionsTokensAndCallsNameItAndItRefusesAnotherNodesToken() throws {
        let g = try RunningGateway {
            $0.node = NodeQualifier(node: 7)
            $0.presence.disconnectGrace = .seconds(30)
        }
        for n in ["alice", "bob"] { try g.signUp(n) }
        let (alice, _) = try g.signIn("alice")
        var (bob, reply) = try g.signIn("bob")
        try g.befriend((alice, "alice"), (bob, "bob"))
        let session = try #require(reply["session"] as? String)
        let token = try #require(reply["resumeToken"] as? String)
        #expect(session.wholeMatch(of: /7:[0-9]+/) != nil, "\(session)")
        #expect(token.wholeMatch(of: /7:[0-9]+\.[0-9a-f]{32}/) != nil, "\(token)")
        #expect(token.hasPrefix(session + "."))

        // A call's number carries the node above bit 32, and stays an exact JSON integer.
        let invite = try alice.call("invite", ["to": "bob@example.com", "payload": "offer"])
        let call = try #require(invite["call"] as? Int)
        #expect(call >> 32 == 7 && call & 0xFFFF_FFFF >= 1, "\(call)")

        // Bob's connection drops. The same token with another node's id, or with none,
        // is refused like an expired one...
        try bob.socket.send(.close, [0x03, 0xE8])
        _ = bob.socket.serverClosedConnection()
        let plain = String(token.drop(while: { $0 != ":" }).dropFirst())
        for forged in ["8:" + plain, plain] {
            let c = try PresenceConnection(port: g.port)
            let refused = try c.call("resume", ["resumeToken": forged, "lastSeq": 0])
            #expect(refused["type"] as? String == "error" && refused["code"] as? String == "unknown_session", "\(forged): \(refused)")
        }
        // ...and the node's own token resumes (the positive control), naming the node again.
        bob = try PresenceConnection(port: g.port)
        reply = try bob.call("resume", ["resumeToken": token, "lastSeq": 0])
        #expect(reply["type"] as? String == "ok" && reply["session"] as? String == session, "\(reply)")
    }

    @Test func tokensParseOnlyWellFormedNodePrefixes() {
        let secret = "00112233445566778899aabbccddeeff"
        #expect(ResumeToken(text: "12." + secret)?.node == nil)
        #expect(ResumeToken(text: "7:12." + secret)?.node == 7)
        #expect(ResumeToken(text: "7:12." + secret)?.session == SessionID(12))
        for bad in ["+7:12.", ":12.", "7:", "x:12.", "2097152:12.", "99999999:12.", "7:8:12."] {
            #expect(ResumeToken(text: bad + (bad.hasSuffix(".") ? secret : "")) == nil, "\(bad)")
        }
        // Round trip, both forms.
        for node: UInt64? in [nil, 0, 7, NodeQualifier.maxNode] {
            let t = ResumeToken(session: SessionID(slot: 3, generation: 2, shard: 1), secretHigh: 0x0123, secretLow: 0x4567, node: node)
            #expect(ResumeToken(text: t.text) == t)
        }
    }
}
