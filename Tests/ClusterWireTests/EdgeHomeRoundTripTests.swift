import ClusterWire
import Presence
import Testing

/// Every command an edge forwards, every home and edge message, survives encoding and
/// decoding unchanged, and every encoding is the only one its value has.
struct EdgeHomeRoundTripTests {
    @Test func testEdgeTablesCoverEveryCommandAndEdgeMessageCase() {
        #expect(Set(Edge.commands.map(caseName)) == Set(commandTags.keys))
        #expect(Set(Edge.unforwardedCommands.map(caseName)) == unforwardedCommandNames)
        #expect(Set(Edge.edgeMessages.map(caseName)) == Set(edgeMessageTags.keys))
        // 24 forwarded and 4 refused: all 28 cases of `Command`.
        #expect(commandTags.count == 24 && unforwardedCommandNames.count == 4 && edgeMessageTags.count == 5)
    }

    @Test func testEveryForwardedCommandRoundTripsAlone() throws {
        for command in Edge.commands {
            let bytes = try encoded(command)
            let decoded = try ClusterWire.decodeCommand(bytes)
            #expect(same(decoded, command), "\(caseName(command))")
            #expect(try encoded(decoded) == bytes, "\(caseName(command))")
        }
    }

    @Test func testEveryHomeMessageRoundTripsAloneAndAsOneBatch() throws {
        for message in Edge.homeMessages {
            #expect(same(try ClusterWire.decodeHomeMessage(try encoded(message)), message))
        }
        let batch = HomeBatch(header: sampleHeader(), messages: Edge.homeMessages)
        let bytes = try encoded(batch)
        let decoded = try ClusterWire.decodeHomeBatch(bytes)
        #expect(same(decoded, batch))
        #expect(try ClusterWire.decodeHomeHeader(bytes) == batch.header)
    }

    @Test func testEveryEdgeMessageRoundTripsAloneAndAsOneBatch() throws {
        for message in Edge.edgeMessages {
            #expect(try ClusterWire.decodeEdgeMessage(encoded(message)) == message, "\(caseName(message))")
        }
        let batch = EdgeBatch(header: sampleHeader(), messages: Edge.edgeMessages)
        let bytes = encoded(batch)
        #expect(try ClusterWire.decodeEdgeBatch(bytes) == batch)
        #expect(try ClusterWire.decodeEdgeHeader(bytes) == batch.header)
    }

    @Test func testEmptyHomeAndEdgeBatchesAreOnlyTheirHeaders() throws {
        let home = try encoded(HomeBatch(header: sampleHeader(), messages: []))
        let edge = encoded(EdgeBatch(header: sampleHeader(), messages: []))
        #expect(home.count == ClusterWire.headerSize && edge.count == ClusterWire.headerSize)
        #expect(try ClusterWire.decodeHomeBatch(home).messages.isEmpty)
        #expect(try ClusterWire.decodeEdgeBatch(edge) == EdgeBatch(header: sampleHeader(), messages: []))
    }

    @Test func testThousandsOfSeededRandomHomeAndEdgeMessagesRoundTripInBatches() throws {
        var generator = MessageGenerator(seed: 0xED6E)
        var commandsSeen = Set<String>(), edgeSeen = Set<String>()
        var total = 0
        for sequence in 1...120 as ClosedRange<UInt64> {
            let home = HomeBatch(header: sampleHeader(sequence: sequence),
                                 messages: (0..<generator.int(1...30)).map { _ in generator.homeMessage() })
            for case .op(_, _, _, let command) in home.messages { commandsSeen.insert(caseName(command)) }
            let homeBytes = try encoded(home)
            let decodedHome = try ClusterWire.decodeHomeBatch(homeBytes)
            #expect(same(decodedHome, home), "seed 0xED6E, home batch \(sequence)")
            #expect(try encoded(decodedHome) == homeBytes)

            let edge = EdgeBatch(header: sampleHeader(sequence: sequence),
                                 messages: (0..<generator.int(1...30)).map { _ in generator.edgeMessage() })
            for message in edge.messages { edgeSeen.insert(caseName(message)) }
            let edgeBytes = encoded(edge)
            let decodedEdge = try ClusterWire.decodeEdgeBatch(edgeBytes)
            #expect(decodedEdge == edge, "seed 0xED6E, edge batch \(sequence)")
            #expect(encoded(decodedEdge) == edgeBytes)
            total += home.messages.count + edge.messages.count
        }
        #expect(total > 2_000)
        #expect(commandsSeen == Set(commandTags.keys))
        #expect(edgeSeen == Set(edgeMessageTags.keys))
    }

    @Test func testEqualSetsEncodeAlikeWhateverTheirHistory() throws {
        // Two equal sets built in opposite orders (and one grown and shrunk) may iterate
        // differently; their encodings may not differ.
        let users = (0..<200).map { user("u\($0)@x.io") }
        var grown = Set(users + (0..<500).map { user("extra\($0)@x.io") })
        for index in 0..<500 { grown.remove(user("extra\(index)@x.io")) }
        let sets = [Set(users), Set(users.reversed()), grown]
        let encodings = try sets.map { try encoded(.signInSubscriber(SessionID(1), allowed: $0, attachment: .none)) }
        #expect(encodings.allSatisfy { $0 == encodings[0] })
        #expect(try ClusterWire.decodeCommand(encodings[0]).allowedForTest == Set(users))
    }

    @Test func testBatchKindNamesEachFormatByItsFirstByte() throws {
        let shard = encoded(ShardBatch(header: sampleHeader(), messages: [.callBusy(CallID(1))]))
        let home = try encoded(HomeBatch(header: sampleHeader(), messages: [Edge.homeMessages[0]]))
        let edge = encoded(EdgeBatch(header: sampleHeader(), messages: [Edge.edgeMessages[0]]))
        #expect(try ClusterWire.batchKind(shard) == .shard)
        #expect(try ClusterWire.batchKind(home) == .home)
        #expect(try ClusterWire.batchKind(edge) == .edge)
        #expect(throws: ClusterWireError.truncated(offset: 0)) { try ClusterWire.batchKind([UInt8]()) }
        for first: UInt8 in [0, 4, 255] {
            #expect(throws: ClusterWireError.unsupportedVersion(first)) { try ClusterWire.batchKind([first]) }
        }
    }

    @Test func testEncodeAppendsAfterWhatTheBufferHolds() throws {
        var bytes: [UInt8] = [0xAA, 0xBB]
        ClusterWire.encode(EdgeMessage.signInRefused(connection: 3), into: &bytes)
        try ClusterWire.encode(Command.activity(SessionID(4)), into: &bytes)
        #expect(bytes[0..<2] == [0xAA, 0xBB])
        #expect(try ClusterWire.decodeEdgeMessage(bytes[2..<11]) == .signInRefused(connection: 3))
        #expect(same(try ClusterWire.decodeCommand(bytes[11...]), .activity(SessionID(4))))
    }
}

extension Command {
    /// A subscriber sign-in's allowed set, for comparing.
    var allowedForTest: Set<UserID>? {
        if case .signInSubscriber(_, let allowed, _) = self { allowed } else { nil }
    }
}
