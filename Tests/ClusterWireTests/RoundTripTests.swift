import ClusterWire
import Presence
import Testing

/// Every value survives encoding and decoding unchanged, and every encoding is the only
/// one its value has.
struct RoundTripTests {
    @Test func testEdgeTablesCoverEveryMessageAndEventCase() {
        #expect(Set(Edge.messages.map(caseName)) == Set(messageTags.keys))
        #expect(Set(Edge.events.map(caseName)) == Set(eventTags.keys))
        #expect(messageTags.count == 15 && eventTags.count == 18)
    }

    @Test func testEveryMessageCaseWithEdgeValuesRoundTripsAlone() throws {
        for message in Edge.messages {
            let bytes = encoded(message)
            #expect(try ClusterWire.decodeMessage(bytes) == message, "\(caseName(message))")
        }
    }

    @Test func testEveryEventCaseRoundTripsInsideBothDeliveries() throws {
        for (index, event) in Edge.events.enumerated() {
            let user = Edge.users[index % Edge.users.count]
            for message in [ShardMessage.deliverToUser(event, user: user),
                            .deliverToSession(event, session: Edge.sessions[index % Edge.sessions.count])] {
                #expect(try ClusterWire.decodeMessage(encoded(message)) == message, "\(caseName(event))")
            }
        }
    }

    @Test func testAllEdgeMessagesRoundTripAsOneBatch() throws {
        let batch = ShardBatch(header: sampleHeader(), messages: Edge.messages)
        let bytes = encoded(batch)
        let decoded = try ClusterWire.decodeBatch(bytes)
        #expect(decoded.header == batch.header)
        #expect(decoded.messages.count == batch.messages.count)
        #expect(decoded == batch)
    }

    @Test func testHeaderExtremesRoundTrip() throws {
        for header in [BatchHeader(sourceNode: 0, sourceShard: 0, destinationNode: 0, destinationShard: 0, sequence: 0),
                       BatchHeader(sourceNode: .max, sourceShard: .max, destinationNode: .max, destinationShard: .max,
                                   sequence: .max)] {
            let batch = ShardBatch(header: header, messages: [.callBusy(CallID(7))])
            #expect(try ClusterWire.decodeBatch(encoded(batch)) == batch)
            #expect(try ClusterWire.decodeHeader(encoded(batch)) == header)
        }
    }

    @Test func testAnEmptyBatchRoundTripsAndIsOnlyItsHeader() throws {
        let batch = ShardBatch(header: sampleHeader(), messages: [])
        let bytes = encoded(batch)
        #expect(bytes.count == ClusterWire.headerSize)
        #expect(try ClusterWire.decodeBatch(bytes) == batch)
    }

    @Test func testThousandsOfSeededRandomMessagesRoundTripInBatches() throws {
        var generator = MessageGenerator(seed: 0xC0DEC)
        var seen = Set<String>()
        var total = 0
        for sequence in 1...200 as ClosedRange<UInt64> {
            let messages = (0..<generator.int(1...50)).map { _ in generator.message() }
            for message in messages { seen.insert(caseName(message)) }
            total += messages.count
            let batch = ShardBatch(header: sampleHeader(sequence: sequence), messages: messages)
            let bytes = encoded(batch)
            let decoded = try ClusterWire.decodeBatch(bytes)
            #expect(decoded == batch, "seed 0xC0DEC, batch \(sequence)")
            // The encoding is canonical: decoding and encoding again gives the same bytes.
            #expect(encoded(decoded) == bytes)
        }
        #expect(total > 4_000)
        #expect(seen == Set(messageTags.keys))
    }

    @Test func testBatchWriterMatchesEncodeBatchByteForByte() throws {
        var generator = MessageGenerator(seed: 7)
        let messages = (0..<300).map { _ in generator.message() }
        var writer = BatchWriter(header: sampleHeader(), reservingCapacity: 64)
        for message in messages { writer.append(message) }
        #expect(writer.messageCount == 300)
        let bytes = writer.finish()
        #expect(bytes == encoded(ShardBatch(header: sampleHeader(), messages: messages)))
        #expect(try ClusterWire.decodeBatch(bytes).messages == messages)

        let empty = BatchWriter(header: sampleHeader()).finish()
        #expect(try ClusterWire.decodeBatch(empty) == ShardBatch(header: sampleHeader(), messages: []))
    }

    @Test func testEncodeAppendsAfterWhatTheBufferHolds() throws {
        var bytes: [UInt8] = [0xAA, 0xBB]
        ClusterWire.encode(.callBusy(CallID(1)), into: &bytes)
        ClusterWire.encodeBatch(ShardBatch(header: sampleHeader(), messages: [.callOffered(CallID(2))]), into: &bytes)
        #expect(bytes[0..<2] == [0xAA, 0xBB])
        #expect(try ClusterWire.decodeMessage(bytes[2..<11]) == .callBusy(CallID(1)))
        #expect(try ClusterWire.decodeBatch(bytes[11...]).messages == [.callOffered(CallID(2))])
    }

    @Test func testBatchesBackToBackDecodeOneAfterAnother() throws {
        var generator = MessageGenerator(seed: 3)
        let batches = (1...5 as ClosedRange<UInt64>).map { sequence in
            ShardBatch(header: sampleHeader(sequence: sequence),
                       messages: (0..<Int(sequence - 1) * 4).map { _ in generator.message() })
        }
        var bytes: [UInt8] = []
        for batch in batches { ClusterWire.encodeBatch(batch, into: &bytes) }
        var rest = bytes[...]
        var decoded: [ShardBatch] = []
        while !rest.isEmpty {
            let (batch, byteCount) = try ClusterWire.decodeLeadingBatch(rest)
            decoded.append(batch)
            rest = rest.dropFirst(byteCount)
        }
        #expect(decoded == batches)
        // Alone, the same bytes are one batch with trailing bytes; cut short, the last throws.
        #expect(throws: ClusterWireError.trailingBytes(count: bytes.count - ClusterWire.headerSize,
                                                       offset: ClusterWire.headerSize)) {
            try ClusterWire.decodeBatch(bytes)
        }
        var cut = bytes.dropLast()[...]
        var decodedBeforeTheCut = 0
        #expect(throws: ClusterWireError.self) {
            while !cut.isEmpty {
                cut = cut.dropFirst(try ClusterWire.decodeLeadingBatch(cut).byteCount)
                decodedBeforeTheCut += 1
            }
        }
        #expect(decodedBeforeTheCut == 4)
    }

    @Test func testEveryKindOfByteCollectionDecodes() throws {
        let batch = ShardBatch(header: sampleHeader(), messages: Array(Edge.messages.prefix(40)))
        let bytes = encoded(batch)
        // A slice that does not start at index 0, a collection with no contiguous storage
        // (copied), and raw memory.
        let padded = [0xFF] + bytes + [0xFF]
        #expect(try ClusterWire.decodeBatch(padded[1..<(padded.count - 1)]) == batch)
        #expect(try ClusterWire.decodeBatch(bytes.lazy.map { $0 }) == batch)
        let viaRaw = try bytes.withUnsafeBytes { raw in try ClusterWire.decodeBatch(raw) }
        #expect(viaRaw == batch)
    }
}
