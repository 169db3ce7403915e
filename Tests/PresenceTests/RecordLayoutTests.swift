@testable import Presence
import Testing

/// A user's record is kept once per shard that knows the user, so its size is a per-user
/// memory cost: its fields are ordered to pack (see `UserRecord`). This fails if a new
/// field or a reordering gives bytes back to padding.
struct RecordLayoutTests {
    @Test func aUserRecordPacksInto192Bytes() {
        #expect(MemoryLayout<UserRecord>.stride <= 192)
    }
}
