/// How load-test accounts are named: `user0000@load.test`, `user0001@load.test`, …
///
/// The number is the user's index in the token and graph files, zero-padded to at least
/// four digits (more when there are more than 10,000 users), so the load client reads the
/// index straight out of an e-mail in an event without a lookup table.
struct LoadUserNaming {
    static let domain = "load.test"
    let width: Int

    init(userCount: Int) {
        width = max(4, String(max(0, userCount - 1)).count)
    }

    func email(_ index: Int) -> String {
        let digits = String(index)
        return "user" + String(repeating: "0", count: max(0, width - digits.count)) + digits + "@" + Self.domain
    }
}
