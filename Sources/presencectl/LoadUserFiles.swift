import Foundation

/// The two files `seed-load` hands to presence-loadtest.
///
/// - The token file: line *i* is the device token of user *i* (plaintext; the database
///   holds only its SHA-256). The load client rewrites it after every sign-in, because a
///   token sign-in rotates the token.
/// - The graph file (default: the token file's path plus `.graph`): a header line, then
///   line *i* is `v` (visible) or `h` (chose Hidden) followed by the indices of user *i*'s
///   accepted contacts, space-separated and sorted.
///
/// ```
/// # presence-load-graph v1 users=4 contacts=2 seed=1 hidden=1 domain=load.test width=4
/// v 1 3
/// h 0 2
/// ```
enum LoadUserFiles {
    static let graphHeaderTag = "# presence-load-graph v1"

    static func defaultGraphPath(tokens: String) -> String { tokens + ".graph" }

    static func writeTokens(_ tokens: [String], to path: String) throws {
        try writeAtomically(tokens.joined(separator: "\n") + "\n", to: path)
    }

    static func writeGraph(_ graph: ContactGraph, hidden: [Bool], seed: UInt64, naming: LoadUserNaming, to path: String) throws {
        var text = "\(graphHeaderTag) users=\(graph.userCount) contacts=\(graph.degree) seed=\(seed) "
            + "hidden=\(hidden.filter { $0 }.count) domain=\(LoadUserNaming.domain) width=\(naming.width)\n"
        text.reserveCapacity(graph.userCount * (graph.degree * 5 + 4))
        for user in 0..<graph.userCount {
            text += hidden[user] ? "h" : "v"
            for contact in graph.contacts[user] { text += " \(contact)" }
            text += "\n"
        }
        try writeAtomically(text, to: path)
    }

    /// Write to a temporary file and rename it over the target, so a reader (or a crash)
    /// never sees half a file.
    static func writeAtomically(_ text: String, to path: String) throws {
        let temporary = path + ".tmp"
        try Data(text.utf8).write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, path) == 0 else {
            throw SeedLoadError.cannotWrite(path: path, reason: String(cString: strerror(errno)))
        }
    }
}
