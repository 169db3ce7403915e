import ClusterWire
import Presence
import Testing

/// The frames `presenced` nodes exchange (Protocol/cluster.md, "Node frames"): every case
/// round-trips with its epoch, the epoch is read without decoding the rest, and malformed
/// frames are refused, never misread.
struct NodeFrameTests {
    static let epochs: [UInt64] = [1, 0x0123_4567_89AB_CDEF, .max]

    static var frames: [NodeFrame] {
        var frames: [NodeFrame] = []
        for (k, epoch) in epochs.enumerated() {
            for message in Edge.messages.prefix(12) {
                frames.append(.shard(epoch: epoch, toShard: UInt8(k * 7), message: message))
            }
            for (d, device) in DeviceKind.allCases.enumerated() {
                frames.append(.op(epoch: epoch, session: Edge.sessions[d % Edge.sessions.count], connection: Edge.connections[d % 4],
                                  device: device, remoteAddress: ["", "127.0.0.1", "::1"][d % 3],
                                  text: Array(#"{"op":"setStatus","id":"1","status":"busy"}"#.utf8) + (d == 2 ? Array(Edge.longString.utf8) : [])))
            }
            for command in Edge.commands {
                guard case .signIn(let request) = command else { continue }
                frames.append(.signIn(epoch: epoch, connection: Edge.connections[k % 4], requestID: "r\(k)",
                                      principal: Array(#""profile":{"id":"a@b"},"device":"web""#.utf8), request: request))
            }
            frames.append(.resume(epoch: epoch, connection: .max, requestID: "", session: Edge.sessions[1],
                                  secretHigh: 0x0102_0304_0506_0708, secretLow: .max, lastSeq: Edge.sequences[k]))
            frames.append(.connectionLost(epoch: epoch, session: Edge.sessions[k % 3], connection: Edge.connections[k % 4]))
            for message in Edge.edgeMessages { frames.append(.edge(epoch: epoch, message: message)) }
            frames.append(.homeReset(epoch: epoch))
            frames.append(.command(epoch: epoch, command: .changeProfile(Edge.plain, isOfflineMailEnabled: true, except: nil)))
            frames.append(.command(epoch: epoch, command: .deleteAccount(Edge.nonASCII)))
        }
        return frames
    }

    @Test func everyFrameRoundTripsWithItsEpochAndHasOneEncoding() throws {
        var tags = Set<String>()
        for frame in Self.frames {
            var bytes: [UInt8] = []
            try ClusterWire.encode(frame, into: &bytes)
            #expect(bytes.first == ClusterWire.nodeFrameFormat)
            #expect(ClusterWire.nodeFrameEpoch(bytes) == frame.epoch)
            let decoded = try ClusterWire.decodeNodeFrame(bytes)
            #expect(same(decoded, frame), "\(frame)")
            var again: [UInt8] = []
            try ClusterWire.encode(decoded, into: &again)
            #expect(again == bytes)
            tags.insert(String(describing: frame).prefix(while: { $0 != "(" }).description)
        }
        // Every case was exercised.
        #expect(tags == ["shard", "op", "signIn", "resume", "connectionLost", "edge", "homeReset", "command"])
    }

    @Test func malformedFramesAreRefused() throws {
        var bytes: [UInt8] = []
        try ClusterWire.encode(.resume(epoch: 9, connection: 1, requestID: "x", session: SessionID(3), secretHigh: 1, secretLow: 2,
                                       lastSeq: 300), into: &bytes)
        // Positive control: the intact frame decodes.
        #expect(throws: Never.self) { try ClusterWire.decodeNodeFrame(bytes) }
        for cut in 0..<bytes.count {
            #expect(throws: ClusterWireError.self) { try ClusterWire.decodeNodeFrame(bytes[..<cut]) }
        }
        #expect(throws: ClusterWireError.self) { try ClusterWire.decodeNodeFrame(bytes + [0]) }
        var otherFormat = bytes
        otherFormat[0] = 3
        #expect(throws: ClusterWireError.self) { try ClusterWire.decodeNodeFrame(otherFormat) }
        #expect(ClusterWire.nodeFrameEpoch(otherFormat) == nil)
        var unknownTag = bytes
        unknownTag[1] = 99
        #expect(throws: ClusterWireError.self) { try ClusterWire.decodeNodeFrame(unknownTag) }
        // A sign-in frame must carry a sign-in command, not any other.
        var signIn: [UInt8] = []
        try ClusterWire.encode(.signIn(epoch: 1, connection: 2, requestID: "r", principal: [],
                                       request: SignIn(session: SessionID(1), user: Edge.plain, device: .web)), into: &signIn)
        var command: [UInt8] = []
        try ClusterWire.encode(.signOut(SessionID(1)), into: &command)
        var forged: [UInt8] = []
        try ClusterWire.encode(.command(epoch: 1, command: .signOut(SessionID(1))), into: &forged)
        let header = Array(signIn.prefix(1 + 1 + 8 + 8 + 2 + 1))  // format, tag, epoch, connection, "r", empty principal
        #expect(throws: Never.self) { try ClusterWire.decodeNodeFrame(forged) }
        #expect(throws: ClusterWireError.self) { try ClusterWire.decodeNodeFrame(header + command) }
    }

    @Test func aStorageOutcomeCannotBeForwarded() {
        var bytes: [UInt8] = []
        #expect(throws: ClusterWireError.self) {
            try ClusterWire.encode(.command(epoch: 1, command: .messageFailed(MessageTicket(1))), into: &bytes)
        }
    }
}

func same(_ a: NodeFrame, _ b: NodeFrame) -> Bool {
    switch (a, b) {
    case let (.shard(e1, s1, m1), .shard(e2, s2, m2)): e1 == e2 && s1 == s2 && m1 == m2
    case let (.op(e1, s1, c1, d1, r1, t1), .op(e2, s2, c2, d2, r2, t2)): e1 == e2 && s1 == s2 && c1 == c2 && d1 == d2 && r1 == r2 && t1 == t2
    case let (.signIn(e1, c1, r1, p1, q1), .signIn(e2, c2, r2, p2, q2)):
        e1 == e2 && c1 == c2 && r1 == r2 && p1 == p2 && same(.signIn(q1), .signIn(q2))
    case let (.resume(e1, c1, r1, s1, h1, l1, q1), .resume(e2, c2, r2, s2, h2, l2, q2)):
        e1 == e2 && c1 == c2 && r1 == r2 && s1 == s2 && h1 == h2 && l1 == l2 && q1 == q2
    case let (.connectionLost(e1, s1, c1), .connectionLost(e2, s2, c2)): e1 == e2 && s1 == s2 && c1 == c2
    case let (.edge(e1, m1), .edge(e2, m2)): e1 == e2 && m1 == m2
    case let (.homeReset(e1), .homeReset(e2)): e1 == e2
    case let (.command(e1, c1), .command(e2, c2)): e1 == e2 && same(c1, c2)
    default: false
    }
}
