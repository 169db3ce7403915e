@testable import Presence
import Testing

/// The core's address → ref table (`UserIndex`): it must answer exactly as a
/// `[UserID: UserRef]` would, through growth, removal (backward shift) and the reuse of
/// forgotten refs, and stay at four bytes a slot.
struct UserIndexTests {
    /// The core's way of holding users: records in an array, forgotten ones replaced by a
    /// placeholder and their refs reused.
    struct Table {
        var index: UserIndex
        var users: [UserRecord] = []
        var free: [UserRef] = []
        var reference: [UserID: UserRef] = [:]

        init(seed: UInt64) { index = UserIndex(seed: seed) }

        mutating func intern(_ id: UserID) -> UserRef {
            if let ref = index.ref(of: id, in: users) { return ref }
            let ref: UserRef
            if let reused = free.popLast() {
                ref = reused
                users[ref.i] = UserRecord(id: id)
            } else {
                ref = UserRef(index: UInt32(users.count))
                users.append(UserRecord(id: id))
            }
            index.insert(ref, in: users)
            reference[id] = ref
            return ref
        }

        mutating func forget(_ id: UserID) {
            guard let ref = reference.removeValue(forKey: id) else { return }
            index.remove(ref, in: users)
            users[ref.i] = UserRecord(id: UserID(email: "forgotten@invalid")!)
            free.append(ref)
        }
    }

    /// SplitMix64 (`ShardEquivalenceTests.Random`): a fixed sequence per seed, so a failure
    /// can be replayed.
    typealias SplitMix = ShardEquivalenceTests.Random

    static func addresses(_ count: Int, using rng: inout SplitMix) -> [UserID] {
        let letters = Array("abcdefghijklmnopqrstuvwxyz0123456789.-_")
        var seen = Set<UserID>()
        var result: [UserID] = []
        while result.count < count {
            let local = String((0..<Int.random(in: 1...20, using: &rng)).map { _ in letters.randomElement(using: &rng)! })
            let domain = String((0..<Int.random(in: 1...18, using: &rng)).map { _ in letters.randomElement(using: &rng)! })
            let id = UserID(email: "\(local)@\(domain)")!
            if seen.insert(id).inserted { result.append(id) }
        }
        return result
    }

    /// The same address in a string of its own, as a key decoded from a message is: equal,
    /// but not the stored string's storage.
    static func separateCopy(_ id: UserID) -> UserID {
        UserID(email: String(decoding: Array(id.email.utf8), as: UTF8.self))!
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func testRandomInsertLookupRemoveSequencesAnswerAsADictionaryDoes(seed: UInt64) {
        var rng = SplitMix(state: seed)
        // A small pool, so removals and re-inserts hit the same probe runs over and over.
        let pool = Self.addresses(400, using: &rng)
        var table = Table(seed: rng.next())
        for step in 0..<20_000 {
            let id = pool.randomElement(using: &rng)!
            switch Int.random(in: 0..<100, using: &rng) {
            case 0..<45:
                let ref = table.intern(id)
                #expect(table.reference[id] == ref)
            case 45..<75:
                #expect(table.index.ref(of: Self.separateCopy(id), in: table.users) == table.reference[id],
                        "step \(step)")
            default:
                table.forget(id)
            }
            #expect(table.index.count == table.reference.count)
            if step % 1_000 == 0 {
                for id in pool {
                    #expect(table.index.ref(of: id, in: table.users) == table.reference[id], "step \(step), \(id)")
                }
            }
        }
        for id in pool { #expect(table.index.ref(of: id, in: table.users) == table.reference[id]) }
        // Emptied one by one, it answers nil for all.
        for id in pool { table.forget(id) }
        #expect(table.index.count == 0)
        for id in pool { #expect(table.index.ref(of: id, in: table.users) == nil) }
    }

    @Test func testEveryInsertedUserIsFoundThroughGrowthAndNoOtherAddressIs() {
        var rng = SplitMix(state: 42)
        let all = Self.addresses(12_000, using: &rng)
        let inserted = all.prefix(10_000), absent = all.suffix(2_000)
        var table = Table(seed: 7)
        for id in inserted { _ = table.intern(id) }
        for (k, id) in inserted.enumerated() {
            #expect(table.index.ref(of: Self.separateCopy(id), in: table.users) == UserRef(index: UInt32(k)))
        }
        for id in absent { #expect(table.index.ref(of: id, in: table.users) == nil) }
    }

    /// The point of the table: 10,000 users (issue 9's load) take 16,384 slots of four
    /// bytes, 6.6 bytes a user, where the dictionary took about 33.
    @Test func testTenThousandUsersTake16384SlotsOfFourBytes() {
        var rng = SplitMix(state: 9)
        var table = Table(seed: 1)
        for id in Self.addresses(10_000, using: &rng) { _ = table.intern(id) }
        #expect(table.index.capacity == 16_384)
        #expect(MemoryLayout<UserIndex>.size <= 32, "slots, count, ref mask and seed")
    }

    /// Refs past 16 bits widen the ref field (fewer tag bits); everything is still found.
    @Test func testRefsPast65535AreFoundAfterTheRefFieldWidens() {
        var table = Table(seed: 3)
        let low = (0..<100).map { UserID(email: "low\($0)@x.io")! }
        for id in low { _ = table.intern(id) }
        // Records up to ref 70,000, as a core has after many users came and went.
        let filler = UserRecord(id: UserID(email: "forgotten@invalid")!)
        table.users += Array(repeating: filler, count: 70_000 - table.users.count)
        let high = UserID(email: "high@x.io")!
        table.users.append(UserRecord(id: high))
        table.index.insert(UserRef(index: 70_000), in: table.users)
        #expect(table.index.ref(of: high, in: table.users) == UserRef(index: 70_000))
        for (k, id) in low.enumerated() { #expect(table.index.ref(of: id, in: table.users) == UserRef(index: UInt32(k))) }
        #expect(table.index.ref(of: UserID(email: "other@x.io")!, in: table.users) == nil)
    }

    @Test func testRemovingARefThatIsNotInTheTableChangesNothing() {
        var table = Table(seed: 5)
        let a = UserID(email: "a@x.io")!, b = UserID(email: "b@x.io")!
        _ = table.intern(a)
        table.users.append(UserRecord(id: b))  // a record, but never inserted
        table.index.remove(UserRef(index: 1), in: table.users)
        #expect(table.index.count == 1)
        #expect(table.index.ref(of: a, in: table.users) == UserRef(index: 0))
        var empty = UserIndex(seed: 5)
        empty.remove(UserRef(index: 0), in: table.users)
        #expect(empty.count == 0)
    }

    /// Keys are bytes: a composed and a decomposed "é" are two users (as they are two
    /// homes for placement), though `String` calls them equal.
    @Test func testCanonicallyEquivalentSpellingsAreTwoUsers() {
        let composed = UserID(email: "ren\u{E9}@x.io")!, decomposed = UserID(email: "rene\u{301}@x.io")!
        #expect(composed == decomposed, "String's equality, which the index does not use")
        var table = Table(seed: 11)
        let first = table.intern(composed)
        #expect(table.index.ref(of: decomposed, in: table.users) == nil)
        table.users.append(UserRecord(id: decomposed))
        let second = UserRef(index: 1)
        table.index.insert(second, in: table.users)
        #expect(table.index.ref(of: composed, in: table.users) == first)
        #expect(table.index.ref(of: decomposed, in: table.users) == second)
        #expect(!UserIndex.hasSameBytes(composed, decomposed))
        #expect(UserIndex.hasSameBytes(composed, Self.separateCopy(composed)))
        // 1 to 40 bytes before the "@", across the word boundaries; they differ in the last byte.
        for length in 1...40 {
            let a = UserID(email: String(repeating: "a", count: length) + "@x")!
            let b = UserID(email: String(repeating: "a", count: length) + "@y")!
            #expect(UserIndex.hasSameBytes(a, Self.separateCopy(a)) && !UserIndex.hasSameBytes(a, b))
        }
    }

    /// The hash is a function of the address's bytes and the seed only: equal addresses in
    /// different storage agree, the seed changes it, and a zero byte at the end is not
    /// padding.
    @Test func testTheHashDependsOnTheBytesAndTheSeedOnly() {
        let long = "someone.with.a.long.name@example.com"
        let one = UserIndex(seed: 1), two = UserIndex(seed: 2)
        #expect(one.hash(of: UserID(email: long)!) == one.hash(of: Self.separateCopy(UserID(email: long)!)))
        #expect(one.hash(of: UserID(email: long)!) != two.hash(of: UserID(email: long)!))
        let bytes: [UInt8] = Array("ab@cd.ef".utf8)
        let padded = bytes + [0]
        let h1 = bytes.withUnsafeBytes { UserIndex.hash($0, seed: 1) }
        let h2 = padded.withUnsafeBytes { UserIndex.hash($0, seed: 1) }
        #expect(h1 != h2)
        // Positive control for the line above: the same bytes hash the same.
        #expect(h1 == Array(bytes).withUnsafeBytes { UserIndex.hash($0, seed: 1) })
    }
}
