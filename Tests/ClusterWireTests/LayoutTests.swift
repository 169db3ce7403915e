import ClusterWire
import Presence
import Testing

/// The bytes Protocol/cluster.md ("Shard messages on the wire") promises, pinned, so a
/// change to the layout is a failing test before it is a cluster of nodes that cannot
/// read each other.
struct LayoutTests {
    @Test func testEveryMessageStartsWithItsDocumentedTag() {
        for message in Edge.messages {
            #expect(encoded(message).first == messageTags[caseName(message)], "\(caseName(message))")
        }
    }

    @Test func testEveryEventStartsWithItsDocumentedTag() {
        for event in Edge.events {
            // deliverToSession: its tag, then the event.
            let bytes = encoded(.deliverToSession(event, session: SessionID(0)))
            #expect(bytes[1] == eventTags[caseName(event)], "\(caseName(event))")
        }
    }

    @Test func testHeaderIsVersionNodesShardsSequenceAndCountLittleEndian() {
        let bytes = encoded(ShardBatch(header: sampleHeader(), messages: [.callBusy(CallID(0x0A0B_0C0D_0E0F_1011))]))
        #expect(bytes == [
            1,  // version
            0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11,  // source node
            0x21,  // source shard
            0x38, 0x37, 0x36, 0x35, 0x34, 0x33, 0x32, 0x31,  // destination node
            0x41,  // destination shard
            0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,  // sequence
            1, 0, 0, 0,  // message count
            11, 0x11, 0x10, 0x0F, 0x0E, 0x0D, 0x0C, 0x0B, 0x0A,  // callBusy, call ID
        ])
        #expect(ClusterWire.headerSize == 31)
    }

    @Test func testPublishedIsSubjectViewAndReveals() {
        let message = ShardMessage.published(
            subject: user("a@b"), view: PresenceView(status: .offline, lastSeen: Instant(milliseconds: 0x0102)),
            reveals: [RevealedView(observer: user("c@d"), view: PresenceView(status: .busy))])
        #expect(encoded(message) == [
            1,  // published
            3, 0x61, 0x40, 0x62,  // subject "a@b"
            0, 1, 0x02, 0x01, 0, 0, 0, 0, 0, 0,  // offline, last seen present, 0x0102 ms
            1,  // one reveal
            3, 0x63, 0x40, 0x64, 4, 0,  // "c@d", busy, no last seen
        ])
    }

    @Test func testStringLengthsAreShortestLEB128() {
        // 300 bytes of payload: length 300 = 0b10_0101100 → 0xAC 0x02.
        let bytes = encoded(.callAnswered(CallID(0), calleeSession: SessionID(0), payload: String(repeating: "p", count: 300)))
        #expect(bytes[17] == 0xAC && bytes[18] == 0x02)
        #expect(bytes.count == 1 + 8 + 8 + 2 + 300)
        // Non-ASCII counts bytes, not characters: "é" is two.
        #expect(encoded(.callAnswered(CallID(0), calleeSession: SessionID(0), payload: "é"))[17...] == [2, 0xC3, 0xA9])
    }

    @Test func testSmallEnumerationsHaveTheirDocumentedBytes() {
        let statuses: [(PresenceStatus, UInt8)] = [(.offline, 0), (.idle, 1), (.mobile, 2), (.online, 3), (.busy, 4)]
        for (status, byte) in statuses {
            #expect(encoded(.introduce(subject: user("a@b"), observer: user("c@d"), view: PresenceView(status: status)))
                .suffix(2) == [byte, 0])
        }
        let chosen: [(ChosenStatus, UInt8)] = [(.online, 0), (.busy, 1), (.hidden, 2)]
        for (status, byte) in chosen {
            #expect(encoded(.deliverToSession(.ownStatus(status), session: SessionID(0)))[2] == byte)
        }
        let changes: [(PairChange, UInt8)] = [(.request, 0), (.accept, 1), (.decline, 2), (.remove, 3)]
        for (change, byte) in changes {
            #expect(encoded(.pairRequest(change, actor: user("a@b"), other: user("c@d"), seen: nil))[1] == byte)
        }
        let states: [(ContactState?, [UInt8])] = [(nil, [0]), (.accepted, [1, 0]), (.requestedByMe, [1, 1]),
                                                  (.requestedByThem, [1, 2])]
        for (state, tail) in states {
            #expect(Array(encoded(.pairSet(a: user("a@b"), b: user("c@d"), state: state)).dropFirst(9)) == tail)
        }
        let reasons: [(CallEndReason, UInt8)] = [(.declined, 0), (.cancelled, 1), (.noAnswer, 2), (.busy, 3),
                                                 (.hungUp, 4), (.connectionLost, 5), (.contactRemoved, 6)]
        for (reason, byte) in reasons {
            #expect(encoded(.callFinished(CallID(0), reason: reason)).suffix(2) == [1, byte])
        }
        #expect(encoded(.callFinished(CallID(0), reason: nil)).last == 0)
        for (receipt, byte) in [(DeliveryReceipt.delivered, UInt8(0)), (.stored, 1)] {
            let ack = ChatAck(clientMessageID: "", messageID: MessageID(0), receipt: receipt)
            #expect(encoded(.deliverToSession(.chatAccepted(ack), session: SessionID(0)))[11] == byte)
        }
        #expect(encoded(.watch(user: user("a@b"), shard: 63, isWatching: true)).suffix(2) == [63, 1])
    }
}
