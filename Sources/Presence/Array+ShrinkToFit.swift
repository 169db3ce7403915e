extension Array {
    /// Reallocates to the exact size when more than an eighth of the capacity is unused: a
    /// list that is complete (a contact list merged at sign-in) stops paying for the
    /// doubling growth that built it.
    mutating func shrinkToFit() {
        guard capacity - count > Swift.max(2, count / 8) else { return }
        let exact = [Element](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = buffer.initialize(fromContentsOf: self)
        }
        self = exact
    }
}
