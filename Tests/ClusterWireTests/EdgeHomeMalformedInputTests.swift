import ClusterWire
import Presence
import Testing

/// Whatever reaches an edge or a home, its decoder answers with a value or the specific
/// `ClusterWireError`: it never traps, never reserves for what a count only claims, and
/// never yields a command an edge may not forward.
struct EdgeHomeMalformedInputTests {
    /// Real batches: up to two short samples of every case, so per-prefix and per-byte
    /// runs stay fast in a debug build.
    static let homeBatchBytes: [UInt8] = {
        var perCase: [String: Int] = [:]
        let messages = Edge.homeMessages.filter { message in
            guard case .op(_, _, _, let command) = message, let bytes = try? encoded(message), bytes.count < 400 else {
                return false
            }
            perCase[caseName(command), default: 0] += 1
            return perCase[caseName(command)]! <= 2
        }
        return try! encoded(HomeBatch(header: sampleHeader(), messages: messages))
    }()

    static let edgeBatchBytes: [UInt8] = {
        var perCase: [String: Int] = [:]
        let messages = Edge.edgeMessages.filter { message in
            guard encoded(message).count < 1_000 else { return false }
            perCase[caseName(message), default: 0] += 1
            return perCase[caseName(message)]! <= 2
        }
        return encoded(EdgeBatch(header: sampleHeader(), messages: messages))
    }()

    @Test func testEveryTruncationOfARealHomeBatchAndEdgeBatchThrows() throws {
        let home = Self.homeBatchBytes, edge = Self.edgeBatchBytes
        // Positive controls: whole, they decode and hold every case.
        let commands = try ClusterWire.decodeHomeBatch(home).messages.map { message in
            switch message { case .op(_, _, _, let command): caseName(command) }
        }
        #expect(Set(commands) == Set(commandTags.keys))
        #expect(Set(try ClusterWire.decodeEdgeBatch(edge).messages.map(caseName)) == Set(edgeMessageTags.keys))
        for length in 0..<home.count {
            expectTruncated(Result { () throws(ClusterWireError) in try ClusterWire.decodeHomeBatch(home[..<length]) },
                            "home batch cut at \(length) of \(home.count)")
        }
        for length in 0..<edge.count {
            expectTruncated(Result { () throws(ClusterWireError) in try ClusterWire.decodeEdgeBatch(edge[..<length]).messages },
                            "edge batch cut at \(length) of \(edge.count)")
        }
    }

    @Test func testEveryTruncationOfEachCommandAndEdgeMessageThrows() throws {
        for command in Edge.commands {
            let bytes = try encoded(command)
            for length in cuts(bytes.count) {
                expectTruncated(Result { () throws(ClusterWireError) in try ClusterWire.decodeCommand(bytes[..<length]) },
                                "\(caseName(command)) cut at \(length)")
            }
        }
        for message in Edge.edgeMessages {
            let bytes = encoded(message)
            for length in cuts(bytes.count) {
                expectTruncated(Result { () throws(ClusterWireError) in try ClusterWire.decodeEdgeMessage(bytes[..<length]) },
                                "\(caseName(message)) cut at \(length)")
            }
        }
    }

    @Test func testUnknownCommandAndMessageTagsAreNamedWithTheirOffset() throws {
        var command = try encoded(Command.activity(SessionID(1)))
        #expect(throws: Never.self) { try ClusterWire.decodeCommand(command) }  // positive control
        for tag: UInt8 in [0, 25, 255] {
            command[0] = tag
            #expect(throws: ClusterWireError.unknownCommandTag(tag, offset: 0)) { try ClusterWire.decodeCommand(command) }
        }
        // Inside an op with no request ID, the command's tag is byte 18.
        var op = try encoded(HomeMessage.op(edgeNode: 1, connection: 2, requestID: nil, command: .activity(SessionID(1))))
        op[18] = 25
        #expect(throws: ClusterWireError.unknownCommandTag(25, offset: 18)) { try ClusterWire.decodeHomeMessage(op) }

        var home = try encoded(HomeBatch(header: sampleHeader(), messages: [Edge.homeMessages[0]]))
        #expect(throws: Never.self) { try ClusterWire.decodeHomeBatch(home) }
        for tag: UInt8 in [0, 2, 255] {
            home[31] = tag
            #expect(throws: ClusterWireError.unknownMessageTag(tag, offset: 31)) { try ClusterWire.decodeHomeBatch(home) }
        }
        var edge = encoded(EdgeBatch(header: sampleHeader(), messages: [.signInRefused(connection: 1)]))
        #expect(throws: Never.self) { try ClusterWire.decodeEdgeBatch(edge) }
        for tag: UInt8 in [0, 6, 255] {
            edge[31] = tag
            #expect(throws: ClusterWireError.unknownMessageTag(tag, offset: 31)) { try ClusterWire.decodeEdgeBatch(edge) }
        }
    }

    @Test func testEachDecoderRefusesTheOtherFormatsByTheirFirstByte() throws {
        let shard = encoded(ShardBatch(header: sampleHeader(), messages: [.callBusy(CallID(1))]))
        let home = try encoded(HomeBatch(header: sampleHeader(), messages: [Edge.homeMessages[0]]))
        let edge = encoded(EdgeBatch(header: sampleHeader(), messages: [.signInRefused(connection: 1)]))
        #expect(throws: ClusterWireError.unsupportedVersion(2)) { try ClusterWire.decodeBatch(home) }
        #expect(throws: ClusterWireError.unsupportedVersion(3)) { try ClusterWire.decodeBatch(edge) }
        #expect(throws: ClusterWireError.unsupportedVersion(1)) { try ClusterWire.decodeHomeBatch(shard) }
        #expect(throws: ClusterWireError.unsupportedVersion(3)) { try ClusterWire.decodeHomeBatch(edge) }
        #expect(throws: ClusterWireError.unsupportedVersion(1)) { try ClusterWire.decodeEdgeBatch(shard) }
        #expect(throws: ClusterWireError.unsupportedVersion(2)) { try ClusterWire.decodeEdgeBatch(home) }
        #expect(throws: ClusterWireError.unsupportedVersion(3)) { try ClusterWire.decodeHomeHeader(edge) }
        #expect(throws: ClusterWireError.unsupportedVersion(2)) { try ClusterWire.decodeEdgeHeader(home) }
        // Even with nothing after the first byte.
        #expect(throws: ClusterWireError.unsupportedVersion(4)) { try ClusterWire.decodeEdgeBatch([4]) }
        #expect(throws: ClusterWireError.truncated(offset: 0)) { try ClusterWire.decodeHomeBatch([UInt8]()) }
    }

    @Test func testAbsurdCountsAreRefusedWithoutReservingForThem() throws {
        let huge: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]
        // Headers claiming more messages than the bytes hold at their smallest (23 bytes
        // an op, 3 an edge message).
        var home = try encoded(HomeBatch(header: sampleHeader(), messages: [
            .op(edgeNode: 1, connection: 2, requestID: nil, command: .activity(SessionID(3)))]))
        home.replaceSubrange(27..<31, with: [2, 0, 0, 0])
        #expect(throws: ClusterWireError.countBeyondEnd(count: 2, offset: 27)) { try ClusterWire.decodeHomeBatch(home) }
        var edge = encoded(EdgeBatch(header: sampleHeader(), messages: [.signInRefused(connection: 1)]))
        edge.replaceSubrange(27..<31, with: [0xFF, 0xFF, 0xFF, 0xFF])
        #expect(throws: ClusterWireError.countBeyondEnd(count: 0xFFFF_FFFF, offset: 27)) { try ClusterWire.decodeEdgeBatch(edge) }
        #expect(throws: ClusterWireError.countBeyondEnd(count: 0xFFFF_FFFF, offset: 27)) { try ClusterWire.decodeEdgeHeader(edge) }
        // A body of 2^64 - 1 bytes; recipients by the quintillion (9 bytes each at least).
        #expect(throws: ClusterWireError.countBeyondEnd(count: .max, offset: 1)) {
            try ClusterWire.decodeEdgeMessage([1] + huge)
        }
        #expect(throws: ClusterWireError.countBeyondEnd(count: .max, offset: 2)) {
            try ClusterWire.decodeEdgeMessage([1, 0] + huge)
        }
        // Two recipients announced, 17 bytes follow: one short of two at 9 each.
        #expect(throws: ClusterWireError.countBeyondEnd(count: 2, offset: 2)) {
            try ClusterWire.decodeEdgeMessage([1, 0, 2] + Array(repeating: 1, count: 17))
        }
        #expect(throws: ClusterWireError.countBeyondEnd(count: .max, offset: 9)) {
            try ClusterWire.decodeEdgeMessage([2, 1, 0, 0, 0, 0, 0, 0, 0] + huge)
        }
        // A sign-in's contacts and backlog, a subscriber's set, a subscription list.
        let signInHead: [UInt8] = [1, 1, 0, 0, 0, 0, 0, 0, 0, 3, 0x61, 0x40, 0x62, 0, 0, 0]
        #expect(throws: ClusterWireError.countBeyondEnd(count: .max, offset: 16)) {
            try ClusterWire.decodeCommand(signInHead + huge)
        }
        #expect(throws: ClusterWireError.countBeyondEnd(count: .max, offset: 17)) {
            try ClusterWire.decodeCommand(signInHead + [0] + huge)
        }
        // One backlog message announced, 25 bytes follow: a chat takes 26 at least.
        #expect(throws: ClusterWireError.countBeyondEnd(count: 1, offset: 17)) {
            try ClusterWire.decodeCommand(signInHead + [0, 1] + Array(repeating: 0, count: 25))
        }
        #expect(throws: ClusterWireError.countBeyondEnd(count: .max, offset: 9)) {
            try ClusterWire.decodeCommand([2, 1, 0, 0, 0, 0, 0, 0, 0] + huge)
        }
        #expect(throws: ClusterWireError.countBeyondEnd(count: .max, offset: 9)) {
            try ClusterWire.decodeCommand([21, 1, 0, 0, 0, 0, 0, 0, 0] + huge)
        }
    }

    @Test func testBytesOutsideAnEnumerationAreInvalidValues() throws {
        let request = SignIn(session: SessionID(1), user: user("a@b"), device: .web, chosenStatus: .busy,
                             contacts: [ContactEntry(user: user("c@d"), state: .accepted)])
        // Each: a valid command, the offset of one enumeration byte, a value just past it.
        let cases: [(Command, Int, UInt8)] = [
            (.signIn(request), 13, 3),  // device
            (.signIn(request), 14, 3),  // chosen status
            (.signIn(request), 15, 2),  // offline mail Boolean
            (.signIn(request), 21, 3),  // contact state
            (.setStatus(SessionID(1), .hidden), 9, 3),  // chosen status
            (.changeProfile(user("a@b"), isOfflineMailEnabled: true, except: nil), 5, 2),  // Boolean
            (.changeProfile(user("a@b"), isOfflineMailEnabled: true, except: nil), 6, 2),  // optional flag
        ]
        for (command, offset, value) in cases {
            var bytes = try encoded(command)
            #expect(throws: Never.self) { try ClusterWire.decodeCommand(bytes) }  // positive control
            bytes[offset] = value
            #expect(throws: ClusterWireError.invalidValue(value, offset: offset), "\(caseName(command)) at \(offset)") {
                try ClusterWire.decodeCommand(bytes)
            }
        }
        let edgeCases: [(EdgeMessage, Int, UInt8)] = [
            (.attach(connection: 1, session: SessionID(2), device: .web), 17, 2),  // optional flag
            (.attach(connection: 1, session: SessionID(2), device: .web), 18, 3),  // device
        ]
        for (message, offset, value) in edgeCases {
            var bytes = encoded(message)
            #expect(try ClusterWire.decodeEdgeMessage(bytes) == message)
            bytes[offset] = value
            #expect(throws: ClusterWireError.invalidValue(value, offset: offset)) { try ClusterWire.decodeEdgeMessage(bytes) }
        }
        var op = try encoded(HomeMessage.op(edgeNode: 1, connection: 2, requestID: "r", command: .activity(SessionID(3))))
        #expect(throws: Never.self) { try ClusterWire.decodeHomeMessage(op) }
        op[17] = 2  // the request ID's flag
        #expect(throws: ClusterWireError.invalidValue(2, offset: 17)) { try ClusterWire.decodeHomeMessage(op) }
    }

    @Test func testASubscriberSetOutOfOrderOrRepeatedIsRefused() throws {
        let attachment = [UInt8](repeating: 0, count: 32)
        let head: [UInt8] = [2, 1, 0, 0, 0, 0, 0, 0, 0, 2]
        let a: [UInt8] = [6] + Array("a@x.io".utf8), b: [UInt8] = [6] + Array("b@x.io".utf8)
        // Positive control: ascending decodes to the set.
        #expect(try ClusterWire.decodeCommand(head + a + b + attachment).allowedForTest == [user("a@x.io"), user("b@x.io")])
        #expect(throws: ClusterWireError.setOutOfOrder(offset: 17)) { try ClusterWire.decodeCommand(head + b + a + attachment) }
        #expect(throws: ClusterWireError.setOutOfOrder(offset: 17)) { try ClusterWire.decodeCommand(head + a + a + attachment) }
    }

    @Test func testCommandsAnEdgeNeverForwardsAreRefusedWhenEncodingLeavingTheBufferAsItWas() throws {
        for command in Edge.unforwardedCommands {
            let name = caseName(command)
            var bytes: [UInt8] = [0xAA]
            #expect(throws: ClusterWireError.commandNotForwarded(name)) { try ClusterWire.encode(command, into: &bytes) }
            #expect(throws: ClusterWireError.commandNotForwarded(name)) {
                try ClusterWire.encode(HomeMessage.op(edgeNode: 1, connection: 2, requestID: "r", command: command), into: &bytes)
            }
            // A batch whose second message is refused: nothing of the batch stays.
            let batch = HomeBatch(header: sampleHeader(), messages: [
                Edge.homeMessages[0], .op(edgeNode: 1, connection: 2, requestID: nil, command: command)])
            #expect(throws: ClusterWireError.commandNotForwarded(name)) { try ClusterWire.encodeBatch(batch, into: &bytes) }
            #expect(bytes == [0xAA], "\(name)")
        }
        #expect(ClusterWireError.commandNotForwarded("fromShard").description
            == "command fromShard is not forwarded from an edge to a home")
    }

    @Test func testCorruptedBytesEitherThrowOrDecodeToWhatTheyEncode() throws {
        var decoded = 0, refused = 0
        var random = SeededGenerator(seed: 0xBAD)
        func damage(_ bytes: [UInt8], _ check: ([UInt8]) -> Void) {
            for position in bytes.indices {
                for mask: UInt8 in [0x01, 0x80, 0xFF] {
                    var damaged = bytes
                    damaged[position] ^= mask
                    check(damaged)
                }
            }
            for _ in 0..<1_000 {
                var damaged = bytes
                for _ in 0..<Int.random(in: 1...8, using: &random) {
                    damaged[Int.random(in: damaged.indices, using: &random)] = UInt8.random(in: 0...255, using: &random)
                }
                check(damaged)
            }
        }
        damage(Self.homeBatchBytes) { damaged in
            if let batch = try? ClusterWire.decodeHomeBatch(damaged) {
                decoded += 1
                // What decodes is canonical: it encodes back to exactly these bytes.
                #expect((try? encoded(batch)) == damaged)
            } else {
                refused += 1
            }
        }
        damage(Self.edgeBatchBytes) { damaged in
            if let batch = try? ClusterWire.decodeEdgeBatch(damaged) {
                decoded += 1
                #expect(encoded(batch) == damaged)
            } else {
                refused += 1
            }
        }
        // Both outcomes happen: flips inside text and numbers decode, flips in structure don't.
        #expect(decoded > 500)
        #expect(refused > 500)
    }

    @Test func testRandomGarbageNeverTraps() {
        var random = SeededGenerator(seed: 0x6A7B)
        for _ in 0..<10_000 {
            let length = Int.random(in: 0...80, using: &random)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            _ = try? ClusterWire.decodeCommand(bytes)
            _ = try? ClusterWire.decodeEdgeMessage(bytes)
            _ = try? ClusterWire.decodeHomeMessage(bytes)
            if !bytes.isEmpty { bytes[0] = ClusterWire.homeBatchFormat }
            _ = try? ClusterWire.decodeHomeBatch(bytes)
            if !bytes.isEmpty { bytes[0] = ClusterWire.edgeBatchFormat }
            _ = try? ClusterWire.decodeEdgeBatch(bytes)
        }
    }

    @Test func testStringsAreValidatedButReplyAndBodyBytesAreOpaque() throws {
        // A close reason must be UTF-8; a reply's bytes are carried as they are.
        let close = encoded(.close(connection: 1, code: 4000, reason: "ab"))
        #expect(throws: Never.self) { try ClusterWire.decodeEdgeMessage(close) }
        #expect(throws: ClusterWireError.invalidUTF8(offset: 11)) {
            try ClusterWire.decodeEdgeMessage(Array(close[..<11]) + [2, 0xC3, 0x28])
        }
        let reply = EdgeMessage.reply(connection: 1, bytes: [0xC3, 0x28, 0xFF])
        #expect(try ClusterWire.decodeEdgeMessage(encoded(reply)) == reply)
        // A user ID must arrive normalized, as everywhere on the wire.
        let request = [9, 1, 0, 0, 0, 0, 0, 0, 0] + [8] + Array("Ann@x.io".utf8)
        #expect(throws: ClusterWireError.invalidUserID(offset: 9)) { try ClusterWire.decodeCommand(request) }
        #expect(throws: Never.self) { try ClusterWire.decodeCommand([9, 1, 0, 0, 0, 0, 0, 0, 0] + [8] + Array("ann@x.io".utf8)) }
    }

    @Test func testTrailingBytesAreRefused() throws {
        let command = try encoded(Command.activity(SessionID(1)))
        #expect(throws: ClusterWireError.trailingBytes(count: 1, offset: 9)) { try ClusterWire.decodeCommand(command + [0]) }
        let edge = encoded(EdgeBatch(header: sampleHeader(), messages: [.signInRefused(connection: 1)]))
        #expect(throws: ClusterWireError.trailingBytes(count: 2, offset: 40)) { try ClusterWire.decodeEdgeBatch(edge + [5, 0]) }
        let home = try encoded(HomeBatch(header: sampleHeader(), messages: []))
        #expect(throws: ClusterWireError.trailingBytes(count: 1, offset: 31)) { try ClusterWire.decodeHomeBatch(home + [1]) }
    }
}

/// Every cut of a short encoding; of a long one (a long string or array), every cut near
/// the ends and a sample in between, where every cut is alike.
private func cuts(_ count: Int) -> [Int] {
    count <= 2_000 ? Array(0..<count)
        : Array(0..<64) + Array(stride(from: 64, to: count - 64, by: 97)) + Array((count - 64)..<count)
}

/// A prefix of a valid encoding ends inside a field (`truncated`), or announces more than
/// it holds (`countBeyondEnd`); anything else is a wrong diagnosis.
private func expectTruncated<T>(_ outcome: Result<T, ClusterWireError>, _ comment: Comment,
                                sourceLocation: SourceLocation = #_sourceLocation) {
    switch outcome {
    case .success: Issue.record("decoded: \(comment)", sourceLocation: sourceLocation)
    case .failure(.truncated), .failure(.countBeyondEnd): break
    case .failure(let error): Issue.record("\(comment): unexpected \(error)", sourceLocation: sourceLocation)
    }
}
