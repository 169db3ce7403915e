@testable import Presence
import Testing

/// A user's record is kept once per shard that knows the user, so its size is a per-user
/// memory cost: its fields are ordered to pack (see `UserRecord`). This fails if a new
/// field or a reordering gives bytes back to padding, or a field a user at rest does not
/// use moves back out of `UserExtras`.
struct RecordLayoutTests {
    @Test func aUserRecordPacksInto104Bytes() {
        #expect(MemoryLayout<UserRecord>.stride <= 104)
    }

    /// One per session: the subscriber-only fields are boxed, the ring's limits live in
    /// the core, and absent times are sentinels (160 bytes before).
    @Test func aSessionRecordPacksInto128Bytes() {
        #expect(MemoryLayout<SessionRecord>.stride <= 128)
        #expect(MemoryLayout<SessionRecord?>.stride <= 128)
    }

    /// The box is there only while something is in it, and a copy of a record does not
    /// see the original's later writes (the box is copied on write).
    @Test func theBoxComesAndGoesAndRecordsKeepValueSemantics() {
        var record = UserRecord(id: UserID(email: "a@x.io")!)
        record.requests.append(UserRef(index: 3))
        let copy = record
        record.requests.append(UserRef(index: 4))
        record.call = CallID(9)
        #expect(copy.requests == [UserRef(index: 3)])
        #expect(copy.call == nil)
        #expect(record.requests == [UserRef(index: 3), UserRef(index: 4)])
        record.requests.removeAll()
        record.call = nil
        #expect(record.requests.isEmpty && record.call == nil && record.sendWindow == nil)
        #expect(copy.requests == [UserRef(index: 3)])
    }
}
