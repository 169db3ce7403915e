@testable import Gateway
import Presence
import Testing
import Transport

/// How a home names a connection another node holds (`RemoteConnection`), and the epoch
/// parity a signed-in connection word keeps (`ConnectionWord.epochParity`).
struct RemoteConnectionTests {
    @Test func anEdgeConnectionRoundTripsThroughItsRemoteID() throws {
        for (loop, fd, generation) in [(0, 5, 1), (3, 19_999, 0xFF_FFFF), (127, (1 << 24) - 1, 7)] {
            let edge = ConnectionID(loop: loop, fd: Int32(fd), generation: UInt32(generation))
            for slot in [0, 5, 63, 127] {
                let id = try #require(RemoteConnection.id(slot: slot, edge: edge.packed))
                #expect(id.loop >= RemoteConnection.firstLoop)
                let back = try #require(RemoteConnection.parse(id))
                #expect(back.slot == slot && back.edge == edge.packed)
                // What the core keeps (the packed word) parses back the same way.
                #expect(RemoteConnection.parse(ConnectionID(packed: id.packed)!)?.edge == edge.packed)
            }
        }
        // A local connection is not remote (the control), and what cannot be named is refused.
        #expect(RemoteConnection.parse(ConnectionID(loop: 127, fd: 3, generation: 1)) == nil)
        #expect(RemoteConnection.id(slot: 0, edge: ConnectionID(loop: 128, fd: 3, generation: 1).packed) == nil)
        #expect(RemoteConnection.id(slot: 0, edge: ConnectionID(loop: 0, fd: 1 << 24, generation: 1).packed) == nil)
        #expect(RemoteConnection.id(slot: 128, edge: ConnectionID(loop: 0, fd: 3, generation: 1).packed) == nil)
    }

    @Test func aSignedInWordKeepsItsEpochParityBesideItsDeviceAndSession() {
        let session = SessionID(slot: 0xFF_FFFF, generation: 0xFF_FFFF, shard: 63)
        for device in [DeviceKind.desktop, .mobile, .web] {
            for parity: UInt64 in [0, 1] {
                let word = ConnectionWord.user(session, device: device, epochParity: parity)
                #expect(word.phase == .user && word.device == device && word.session == session && word.epochParity == parity)
            }
        }
        let subscriber = ConnectionWord.subscriber(session, epochParity: 1)
        #expect(subscriber.phase == .subscriber && subscriber.session == session && subscriber.epochParity == 1)
        #expect(ConnectionWord.subscriber(session).epochParity == 0)
    }
}
