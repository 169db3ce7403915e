import ArgumentParser
import Glibc

/// Options of the signed-in scenarios (presence, chat, storm, idle --signed-in): the users
/// that `presencectl seed-load` created.
struct SessionOptions: ParsableArguments {
    @Option(help: "Device tokens, one per line (line i = user i), from presencectl seed-load. Rewritten with the rotated tokens after every sign-in.")
    var tokens: String?

    @Option(help: "The contact graph from presencectl seed-load (default: the --tokens path plus .graph).")
    var graph: String?

    /// The seeded users; throws a usage error without --tokens.
    func loadUsers(for scenario: String) throws -> LoadUsers {
        guard let tokens else { throw ValidationError("\(scenario) needs --tokens (create the users with presencectl seed-load)") }
        return try LoadUsers(tokensPath: tokens, graphPath: graph ?? tokens + ".graph")
    }

    /// A seeded choice of `fraction` of the visible users among users `firstUser ..<
    /// firstUser + count`, as connection indices (user `firstUser + i` is connection i).
    static func flippers(_ users: LoadUsers, count: Int, fraction: Double, seed: UInt64, firstUser: Int = 0) -> [Int32] {
        var visible = (0..<count).filter { !users.isHidden[firstUser + $0] }.map(Int32.init)
        var generator = SeededGenerator(seed: seed ^ 0xF11F)
        visible.shuffle(using: &generator)
        return Array(visible.prefix(Int((fraction * Double(visible.count)).rounded())))
    }

    /// Milliseconds since the epoch: unique per invocation, for client message IDs.
    static func runNonce() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) * 1000 + UInt64(ts.tv_nsec) / 1_000_000
    }
}

extension CommonOptions {
    /// Signed-in scenarios drive one server over presence.v1; nothing to compare against.
    func validateSignedIn(_ scenario: String) throws {
        if compareUrl != nil { throw ValidationError("\(scenario) compares nothing: --compare-url applies to echo and idle") }
    }
}
