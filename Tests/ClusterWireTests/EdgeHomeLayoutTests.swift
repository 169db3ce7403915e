import ClusterWire
import Presence
import Testing

/// The bytes Protocol/cluster.md ("Edge and home messages on the wire") promises, pinned,
/// so a change to a layout fails here before it is an edge and a home that cannot read
/// each other.
struct EdgeHomeLayoutTests {
    @Test func testEveryCommandStartsWithItsDocumentedTag() throws {
        for command in Edge.commands {
            #expect(try encoded(command).first == commandTags[caseName(command)], "\(caseName(command))")
        }
    }

    @Test func testEveryEdgeMessageStartsWithItsDocumentedTag() {
        for message in Edge.edgeMessages {
            #expect(encoded(message).first == edgeMessageTags[caseName(message)], "\(caseName(message))")
        }
    }

    @Test func testHomeBatchIsFormat2TheShardHeaderThenOpsWithNodeConnectionRequestAndCommand() throws {
        let op = HomeMessage.op(edgeNode: 0x0102_0304_0506_0708, connection: 0x1112_1314_1516_1718, requestID: "r1",
                                command: .send(SessionID(0x0A0B), to: user("c@d"), clientMessageID: "m", body: "hi"))
        #expect(try encoded(HomeBatch(header: sampleHeader(), messages: [op])) == [
            2,  // format: home batch
            0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11,  // source node (the edge)
            0x21,  // source shard (the edge's stream)
            0x38, 0x37, 0x36, 0x35, 0x34, 0x33, 0x32, 0x31,  // destination node (the home)
            0x41,  // destination shard (the home's presence shard)
            0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,  // sequence
            1, 0, 0, 0,  // message count
            1,  // op
            0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,  // edge node
            0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11,  // connection
            1, 2, 0x72, 0x31,  // request ID present, "r1"
            13,  // send
            0x0B, 0x0A, 0, 0, 0, 0, 0, 0,  // session
            3, 0x63, 0x40, 0x64,  // to "c@d"
            1, 0x6D,  // client message ID "m"
            2, 0x68, 0x69,  // body "hi"
        ])
        // No request ID: a single 0 where the string was.
        let lost = HomeMessage.op(edgeNode: 1, connection: 2, requestID: nil, command: .connectionLost(SessionID(3)))
        #expect(try encoded(lost) == [1, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 4, 3, 0, 0, 0, 0, 0, 0, 0])
    }

    @Test func testEdgeBatchIsFormat3WithDeliveriesAsBodyThenConnectionAndVarintSequence() {
        let batch = EdgeBatch(header: sampleHeader(), messages: [
            .deliver(body: Array(#""a":1}"#.utf8), to: [EdgeRecipient(connection: 0x0102, sequence: 1),
                                                       EdgeRecipient(connection: .max, sequence: 300)]),
            .close(connection: 5, code: 4000, reason: "signed_out"),
        ])
        #expect(encoded(batch) == [
            3,  // format: edge batch
            0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11,  // source node (the home)
            0x21,  // source shard (the home's presence shard)
            0x38, 0x37, 0x36, 0x35, 0x34, 0x33, 0x32, 0x31,  // destination node (the edge)
            0x41,  // destination shard (the edge's stream)
            0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,  // sequence
            2, 0, 0, 0,  // message count
            1,  // deliver
            6, 0x22, 0x61, 0x22, 0x3A, 0x31, 0x7D,  // body "a":1}
            2,  // two recipients
            0x02, 0x01, 0, 0, 0, 0, 0, 0, 1,  // connection 0x0102, seq 1
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xAC, 0x02,  // connection 2^64 - 1, seq 300
            3,  // close
            5, 0, 0, 0, 0, 0, 0, 0,  // connection
            0xA0, 0x0F,  // code 4000, little-endian
            10, 0x73, 0x69, 0x67, 0x6E, 0x65, 0x64, 0x5F, 0x6F, 0x75, 0x74,  // "signed_out"
        ])
    }

    @Test func testSignInIsEveryFieldInDeclarationOrder() throws {
        let request = SignIn(
            session: SessionID(0x0102), user: user("a@b"), device: .mobile, chosenStatus: .busy, isOfflineMailEnabled: true,
            contacts: [ContactEntry(user: user("c@d"), state: .requestedByThem)],
            backlog: [ChatMessage(id: MessageID(9), sender: user("c@d"), recipient: user("a@b"), clientMessageID: "k",
                                  body: "yo", sentAt: Instant(milliseconds: 0x0304))],
            attachment: SessionAttachment(connection: 0x0506, secretHigh: 7, secretLow: 8, deviceTokenID: -2))
        #expect(try encoded(.signIn(request)) == [
            1,  // signIn
            0x02, 0x01, 0, 0, 0, 0, 0, 0,  // session
            3, 0x61, 0x40, 0x62,  // user "a@b"
            1,  // device: mobile
            1,  // chosen status: busy
            1,  // offline mail: true
            1, 3, 0x63, 0x40, 0x64, 2,  // one contact: "c@d", requestedByThem
            1,  // one backlog message:
            9, 0, 0, 0, 0, 0, 0, 0,  // message ID
            3, 0x63, 0x40, 0x64, 3, 0x61, 0x40, 0x62,  // sender, recipient
            1, 0x6B, 2, 0x79, 0x6F,  // client message ID "k", body "yo"
            0x04, 0x03, 0, 0, 0, 0, 0, 0,  // sent at
            0x06, 0x05, 0, 0, 0, 0, 0, 0,  // attachment: connection
            7, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0,  // resume secret, high then low
            0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,  // device token row -2
        ])
    }

    @Test func testSubscriberSetsAreSortedByBytes() throws {
        let allowed: Set = [user("b@x.io"), user("a@x.io"), user("ab@x.io")]
        #expect(try encoded(.signInSubscriber(SessionID(1), allowed: allowed, attachment: .none)) ==
            [2, 1, 0, 0, 0, 0, 0, 0, 0, 3]
            + [6] + Array("a@x.io".utf8) + [7] + Array("ab@x.io".utf8) + [6] + Array("b@x.io".utf8)
            + Array(repeating: 0, count: 32))
    }

    @Test func testSequencesAreVarintsAndOptionalsAreFlagged() throws {
        #expect(try encoded(.heartbeat(SessionID(1), lastSeenSequence: 300)) == [6, 1, 0, 0, 0, 0, 0, 0, 0, 0xAC, 0x02])
        #expect(try encoded(.resume(SessionID(1), lastSeenSequence: 0, connection: 2))
            == [5, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0])
        #expect(try encoded(.changeProfile(user("a@b"), isOfflineMailEnabled: false, except: nil)) == [23, 3, 0x61, 0x40, 0x62, 0, 0])
        #expect(try encoded(.changeProfile(user("a@b"), isOfflineMailEnabled: true, except: SessionID(5)))
            == [23, 3, 0x61, 0x40, 0x62, 1, 1, 5, 0, 0, 0, 0, 0, 0, 0])
    }

    @Test func testAttachNamesTheDeviceOrNoneForASubscriber() {
        let devices: [(DeviceKind?, [UInt8])] = [(nil, [0]), (.desktop, [1, 0]), (.mobile, [1, 1]), (.web, [1, 2])]
        for (device, tail) in devices {
            #expect(encoded(.attach(connection: 1, session: SessionID(2), device: device))
                == [4, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0] + tail)
        }
        #expect(encoded(.signInRefused(connection: 0x0102)) == [5, 2, 1, 0, 0, 0, 0, 0, 0])
        #expect(encoded(.reply(connection: 1, bytes: [0x7B, 0x7D])) == [2, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0x7B, 0x7D])
    }
}
