/// A status a user picks (Protocol/README.md §2: online · busy · hidden), as the load
/// client tracks it per user. (Named apart from `Presence.UserStatus`, which `bench` uses.)
enum UserStatus: UInt8 {
    case online, busy, hidden

    /// Reads the status name at `index` of a server message; the observed-only statuses
    /// (`offline`, `idle`, `mobile`) give nil.
    static func read(_ text: ServerText, at index: Int) -> UserStatus? {
        if text.matches(onlineName, at: index) { return .online }
        if text.matches(busyName, at: index) { return .busy }
        if text.matches(hiddenName, at: index) { return .hidden }
        return nil
    }

    /// What a flip changes to: online ↔ busy (a hidden user never flips).
    var flipped: UserStatus { self == .busy ? .online : .busy }

    static let onlineName = Array(#"online""#.utf8)
    static let busyName = Array(#"busy""#.utf8)
    static let hiddenName = Array(#"hidden""#.utf8)
}
