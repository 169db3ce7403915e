/// The slots of one user's sessions.
///
/// Nearly every user has one session or none, so the first slot is kept inline and only
/// further ones in an array: a signed-in user's list costs no allocation (an `[Int]` of
/// one element was a 40-byte heap block per signed-in user).
struct SlotList: RandomAccessCollection, Sendable {
    /// The first slot, or -1 when the list is empty.
    private var first: Int32 = -1
    /// The slots after the first, in order.
    private var more: [Int32] = []

    var startIndex: Int { 0 }
    var endIndex: Int { first < 0 ? 0 : 1 + more.count }

    subscript(position: Int) -> Int { position == 0 ? Int(first) : Int(more[position - 1]) }

    /// Adds `slot` at the end.
    mutating func append(_ slot: Int) {
        if first < 0 { first = Int32(slot) } else { more.append(Int32(slot)) }
    }

    /// Removes the slots `shouldRemove` picks, keeping the others in order.
    mutating func removeAll(where shouldRemove: (Int) -> Bool) {
        var kept = SlotList()
        for slot in self where !shouldRemove(slot) { kept.append(slot) }
        self = kept
    }
}
