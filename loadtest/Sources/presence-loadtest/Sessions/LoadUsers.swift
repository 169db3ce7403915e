import Foundation
import Glibc

/// The users a signed-in scenario plays: their device tokens and contact graph, as
/// `presencectl seed-load` wrote them (format in `Sources/presencectl/LoadUserFiles.swift`).
///
/// Connection *i* of a run signs in as user *i*. The contact graph is held flat (CSR:
/// `contactStart[u] ..< contactStart[u + 1]` into `contactList`, each list sorted), so the
/// hot path tests "is u a contact of v" with a binary search and no allocation.
///
/// `@unchecked Sendable`: `tokens` is the only mutable state. During a run it is written by
/// the one client loop thread that signs users in (and saved by that thread); the main
/// thread reads or writes it only before the loop thread starts and after `pthread_join`,
/// which orders the accesses.
final class LoadUsers: @unchecked Sendable {
    let tokensPath: String
    let count: Int
    /// Rotated as sign-ins succeed: a token sign-in invalidates the token it used.
    var tokens: [String]
    /// The users this process signs in, when not all (--first-user / --users): only their
    /// lines of the token file are rewritten, so client processes sharing one file keep
    /// each other's rotated tokens.
    var signedRange: Range<Int>?
    let isHidden: [Bool]
    let contactStart: [Int32]
    let contactList: [Int32]
    /// `userNNNN@load.test` as UTF-8, for ops that name a user.
    let emails: [[UInt8]]

    init(tokensPath: String, graphPath: String) throws(LoadTestError) {
        self.tokensPath = tokensPath
        guard let tokenText = try? String(contentsOfFile: tokensPath, encoding: .utf8) else {
            throw .invalidOption("--tokens \(tokensPath): cannot read (create it with presencectl seed-load)")
        }
        tokens = tokenText.split(separator: "\n").map(String.init)
        guard let graphText = try? String(contentsOfFile: graphPath, encoding: .utf8) else {
            throw .invalidOption("--graph \(graphPath): cannot read (presencectl seed-load writes it next to the tokens)")
        }
        var lines = graphText.split(separator: "\n")
        guard let header = lines.first, header.hasPrefix("# presence-load-graph v1") else {
            throw .invalidOption("--graph \(graphPath): not a presence-load-graph v1 file")
        }
        let fields = Dictionary(header.split(separator: " ").compactMap { part -> (String, String)? in
            let kv = part.split(separator: "=", maxSplits: 1)
            return kv.count == 2 ? (String(kv[0]), String(kv[1])) : nil
        }, uniquingKeysWith: { a, _ in a })
        lines.removeFirst()
        count = lines.count
        guard Int(fields["users"] ?? "") == count, tokens.count == count else {
            throw .invalidOption("--graph \(graphPath) lists \(count) users, its header says \(fields["users"] ?? "?"), --tokens has \(tokens.count)")
        }
        let width = Int(fields["width"] ?? "") ?? 4
        var hidden: [Bool] = []
        var start: [Int32] = [0]
        var list: [Int32] = []
        hidden.reserveCapacity(count)
        start.reserveCapacity(count + 1)
        for line in lines {
            let parts = line.split(separator: " ")
            hidden.append(parts.first == "h")
            for part in parts.dropFirst() {
                guard let contact = Int32(part), contact >= 0, Int(contact) < count else {
                    throw .invalidOption("--graph \(graphPath): bad contact index \(part)")
                }
                list.append(contact)
            }
            start.append(Int32(list.count))
        }
        isHidden = hidden
        contactStart = start
        contactList = list
        emails = (0..<count).map { index in
            let digits = String(index)
            return Array(("user" + String(repeating: "0", count: max(0, width - digits.count)) + digits + "@load.test").utf8)
        }
    }

    /// The contacts of `user`, sorted.
    @inline(__always)
    func contacts(of user: Int) -> ArraySlice<Int32> {
        contactList[Int(contactStart[user])..<Int(contactStart[user + 1])]
    }

    /// Whether `a` and `b` are accepted contacts (binary search in `a`'s sorted list).
    @inline(__always)
    func areContacts(_ a: Int, _ b: Int) -> Bool {
        var low = Int(contactStart[a]), high = Int(contactStart[a + 1])
        let target = Int32(b)
        while low < high {
            let mid = (low + high) >> 1
            if contactList[mid] < target { low = mid + 1 } else { high = mid }
        }
        return low < Int(contactStart[a + 1]) && contactList[low] == target
    }

    /// Rewrites the token file with the rotated tokens (temporary file, then rename).
    func saveTokens() throws(LoadTestError) {
        if let range = signedRange, range != 0..<count { return try saveTokens(in: range) }
        try write(tokens, to: tokensPath + ".tmp")
    }

    /// Rewrites only the lines of `range`, under an exclusive lock on `TOKENS.lock`: the
    /// other lines are read again from the file, as other processes left them.
    func saveTokens(in range: Range<Int>) throws(LoadTestError) {
        let lockPath = tokensPath + ".lock"
        let lock = open(lockPath, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard lock >= 0 else { throw .syscallFailed("open \(lockPath)", errno: errno) }
        defer { close(lock) }
        guard flock(lock, LOCK_EX) == 0 else { throw .syscallFailed("flock \(lockPath)", errno: errno) }
        guard let text = try? String(contentsOfFile: tokensPath, encoding: .utf8) else {
            throw .invalidOption("--tokens \(tokensPath): cannot read it again to save the rotated tokens")
        }
        var lines = text.split(separator: "\n").map(String.init)
        guard lines.count == count else { throw .invalidOption("--tokens \(tokensPath) now has \(lines.count) lines, not \(count)") }
        for u in range { lines[u] = tokens[u] }
        try write(lines, to: tokensPath + ".tmp.\(getpid())")
    }

    private func write(_ lines: [String], to temporary: String) throws(LoadTestError) {
        do {
            try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: temporary))
        } catch {
            throw .cannotWriteReport(path: temporary, reason: "\(error)")
        }
        guard rename(temporary, tokensPath) == 0 else { throw .syscallFailed("rename \(temporary)", errno: errno) }
    }
}
