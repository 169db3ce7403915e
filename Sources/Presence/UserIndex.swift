/// Finds a user's record by address: the core's one map from `UserID` to `UserRef`.
///
/// Every shard keeps a record of nearly every user (their own, and a mirror of each user
/// homed elsewhere), so this map costs memory per user per shard. A `[UserID: UserRef]`
/// held a copy of each 16-byte string key beside its 4-byte value, in a table at most
/// three-quarters full: about 33 bytes per user per shard. The key is already in the
/// record (`UserRecord.id`), so this table holds only the record's index, in one `UInt32`
/// per slot, and compares the address it is asked for with `users[ref].id`: about 6 bytes
/// per user at 10,000 (16,384 slots).
///
/// Open addressing with linear probing in a power-of-two table at most four-fifths full.
/// A slot is 0 when empty; otherwise its low bits (`refMask`, 16 of them to start with)
/// hold the ref plus one, and the bits above hold the same bits of the address's hash (a
/// *tag*). A probe that meets another address compares tags and moves on without reading
/// that record or its string, unless the tags agree by chance: once in 65,536 while refs
/// fit in 16 bits. A ref that does not fit widens the field, leaving fewer tag bits, by
/// rebuilding the table as growth does.
///
/// Removal shifts the rest of the probe run back into the hole (no tombstones), so a
/// table that sees many users come and go (forgetting, `PresenceCore+Forgetting.swift`)
/// never fills up with dead slots.
///
/// Keys are equal when their bytes are, as placement sees them (`ShardPlacement.home(of:)`
/// hashes the bytes): two spellings of an address that are canonically equivalent Unicode but not the
/// same bytes (a composed and a decomposed "é") are two users, as they may have two homes.
/// (A `String`-keyed dictionary made them one, on one shard.) Comparing bytes is also
/// cheaper than `String`'s `==`, which checks for that equivalence.
///
/// The table reads keys from the caller's record array (`in users:`): the record of every
/// ref in the table must carry the address it was inserted under, from `insert` until
/// `remove`. Rebuilding and removal rehash addresses from there.
struct UserIndex: Sendable {
    /// Slot contents as described above; the count is a power of two, or 0 before the
    /// first insert.
    private var slots: [UInt32] = []
    /// Users in the table.
    private(set) var count = 0
    /// Low bits of a slot that hold the ref plus one; the rest is the tag.
    private var refMask: UInt32 = 0xFFFF
    /// Keys the hash (`hash(of:)`).
    let seed: UInt64

    /// An empty index whose hash is keyed by `seed`; by default this process's, which is
    /// secret (see `processSeed`). Tests pass a fixed one.
    init(seed: UInt64 = Self.processSeed) {
        self.seed = seed
    }

    /// The ref of the user with this address, if the table has one.
    func ref(of id: UserID, in users: [UserRecord]) -> UserRef? {
        guard count > 0 else { return nil }
        let hash = hash(of: id)
        let tag = tag(hash)
        let refMask = refMask
        return slots.withUnsafeBufferPointer { slots -> UserRef? in
            let mask = slots.count - 1
            var i = Int(truncatingIfNeeded: hash) & mask
            while true {
                let slot = slots[i]
                if slot == 0 { return nil }
                if slot & ~refMask == tag {
                    let ref = Int(slot & refMask) - 1
                    if Self.hasSameBytes(users[ref].id, id) { return UserRef(index: UInt32(ref)) }
                }
                i = (i + 1) & mask
            }
        }
    }

    /// Adds `ref`, filed under `users[ref].id`, which must not be in the table yet.
    mutating func insert(_ ref: UserRef, in users: [UserRecord]) {
        // Refs are indices into an array of records of ~100 bytes: 2^31 of them would
        // need 200 GB.
        precondition(ref.index < UInt32.max >> 1, "UserIndex: ref out of range")
        if (count + 1) * 5 > slots.count * 4 || ref.index + 1 > refMask {
            var widerMask = refMask
            while ref.index + 1 > widerMask { widerMask = widerMask << 1 | 1 }
            rebuild(capacity: (count + 1) * 5 > slots.count * 4 ? max(16, slots.count * 2) : slots.count,
                    refMask: widerMask, users: users)
        }
        place(ref, hash: hash(of: users[ref.i].id))
        count += 1
    }

    /// Takes `ref` out of the table; `users[ref].id` must still be the address it was
    /// inserted under. Does nothing if it is not in the table.
    mutating func remove(_ ref: UserRef, in users: [UserRecord]) {
        guard count > 0 else { return }
        let mask = slots.count - 1
        let wanted = ref.index + 1
        var hole = Int(truncatingIfNeeded: hash(of: users[ref.i].id)) & mask
        while slots[hole] & refMask != wanted {
            if slots[hole] == 0 { return }
            hole = (hole + 1) & mask
        }
        count -= 1
        // Backward shift: each later entry of the run moves into the hole unless that
        // would put it before its home slot (the hole is not within [home, j), cyclically).
        var j = (hole + 1) & mask
        while slots[j] != 0 {
            let home = Int(truncatingIfNeeded: hash(of: users[Int(slots[j] & refMask) - 1].id)) & mask
            if (j - home) & mask >= (j - hole) & mask {
                slots[hole] = slots[j]
                hole = j
            }
            j = (j + 1) & mask
        }
        slots[hole] = 0
    }

    /// Slots in the table (its memory is four bytes each).
    var capacity: Int { slots.count }

    private func tag(_ hash: UInt64) -> UInt32 {
        UInt32(truncatingIfNeeded: hash >> 32) & ~refMask
    }

    /// Puts `ref` in the first empty slot of its probe run; there is one (load ≤ 0.8).
    private mutating func place(_ ref: UserRef, hash: UInt64) {
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: hash) & mask
        while slots[i] != 0 { i = (i + 1) & mask }
        slots[i] = tag(hash) | (ref.index + 1)
    }

    private mutating func rebuild(capacity: Int, refMask: UInt32, users: [UserRecord]) {
        let old = slots
        let oldMask = self.refMask
        slots = [UInt32](repeating: 0, count: capacity)
        self.refMask = refMask
        for slot in old where slot != 0 {
            let ref = UserRef(index: (slot & oldMask) - 1)
            place(ref, hash: hash(of: users[ref.i].id))
        }
    }
}

// MARK: - Keys

extension UserIndex {
    /// Whether two addresses are the same bytes (see the type's comment).
    @inline(__always)
    static func hasSameBytes(_ a: UserID, _ b: UserID) -> Bool {
        let x = a.email.utf8, y = b.email.utf8
        guard x.count == y.count else { return false }  // O(1): native strings know it
        return x.withContiguousStorageIfAvailable { p in
            y.withContiguousStorageIfAvailable { q in hasSameBytes(UnsafeRawBufferPointer(p), UnsafeRawBufferPointer(q)) }
        }.flatMap { $0 } ?? x.elementsEqual(y)
    }

    /// Equal-length buffers compared a word at a time.
    private static func hasSameBytes(_ p: UnsafeRawBufferPointer, _ q: UnsafeRawBufferPointer) -> Bool {
        let n = p.count
        var offset = 0
        while n - offset >= 8 {
            if p.loadUnaligned(fromByteOffset: offset, as: UInt64.self) != q.loadUnaligned(fromByteOffset: offset, as: UInt64.self) {
                return false
            }
            offset += 8
        }
        while offset < n {
            if p[offset] != q[offset] { return false }
            offset += 1
        }
        return true
    }
}

// MARK: - The hash

extension UserIndex {
    /// The seed of every index in this process, drawn once from the system's random source.
    static let processSeed = UInt64.random(in: .min ... .max)

    /// A keyed, non-cryptographic hash of the normalized address, 8 bytes per step: each
    /// step xors a word into the state and folds its 128-bit product with an odd constant
    /// (high half xor low half), as wyhash does.
    ///
    /// Why not `Hasher`: it is SipHash-1-3 with a per-process random seed. The seed is no
    /// loss (this one is seeded too), but SipHash's rounds are, on every lookup: each
    /// `published` message from another shard, each contact of a signing-in user. For the
    /// 15 to 18 byte addresses of the load test it took 33–40 ns, this 8–9 ns (release,
    /// loadtest/README.md "The user index, 3 December").
    ///
    /// Why seeded at all: hash flooding is a real concern here. Anyone signed in chooses
    /// the addresses the core interns (a contact request to any address creates a record
    /// that lives at least a minute), and linear probing degrades with collisions in the
    /// low bits alone: with an unkeyed hash, addresses that fill one probe run can be found
    /// offline in about 2^14 tries each at 10,000 users, and each makes every lookup that
    /// passes through the run slower. With a secret seed the attacker cannot compute the
    /// hash, and its values never leave the process: nothing iterates the table, so no
    /// output order depends on them. The state starts from the seed, so no input collides
    /// independently of it, except by making a word equal to the unknown state (the known
    /// weakness of this construction), which needs the seed.
    func hash(of id: UserID) -> UInt64 {
        let seed = seed
        return id.email.utf8.withContiguousStorageIfAvailable { Self.hash(UnsafeRawBufferPointer($0), seed: seed) }
            ?? Array(id.email.utf8).withUnsafeBytes { Self.hash($0, seed: seed) }
    }

    static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        // wyhash's constants: odd, with bits spread across the word.
        let p0: UInt64 = 0xa076_1d64_78bd_642f, p1: UInt64 = 0xe703_7ed1_a0b4_28db, p2: UInt64 = 0x8ebc_6af0_9c88_c6e3
        @inline(__always) func fold(_ a: UInt64, _ b: UInt64) -> UInt64 {
            let product = a.multipliedFullWidth(by: b)
            return product.high ^ product.low
        }
        let n = bytes.count
        var state = seed ^ p0
        var offset = 0
        while n - offset >= 8 {
            state = fold(state ^ UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)), p1)
            offset += 8
        }
        if offset < n {
            var word: UInt64 = 0
            if n >= 8 {
                // The last 8 bytes, overlapping words already folded in: one load for the
                // tail, and inputs of one length still give distinct word sequences.
                word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self))
            } else {
                for k in 0..<n { word |= UInt64(bytes[k]) << (8 * k) }
            }
            state = fold(state ^ word, p1)
        }
        // The length goes in last, so "a" and "a\0" (a zero-padded tail) differ.
        return fold(state ^ UInt64(n), p2)
    }
}
