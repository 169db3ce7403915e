import Foundation

/// The server's memory as the kernel and as malloc see it, read from outside without changing
/// the server: /proc/PID/smaps_rollup, and the allocator's own figures called in the server by
/// `gdb -p PID -batch` (the server is stopped for the call, about a second): jemalloc's
/// `stats.allocated` and `stats.resident` through presenced's `cjemalloc_heap_*_bytes()`, or,
/// in a server without them (a peer on glibc), glibc's `mallinfo2()`.
struct ServerMemory: Codable {
    /// smaps_rollup: resident, anonymous and private dirty bytes.
    var rssBytes: Int
    var anonymousBytes: Int
    var privateDirtyBytes: Int
    /// mallinfo2 over all arenas: bytes the arenas got from the system (`arena`), in mmapped
    /// chunks (`hblkhd`), handed out and not freed (`uordblks`), free inside the arenas
    /// (`fordblks`). From jemalloc: `stats.resident`, 0, `stats.allocated`, and their
    /// difference. Nil when gdb could not read them (see `heapError`).
    var arenaBytes: Int?
    var mmappedBytes: Int?
    var allocatedBytes: Int?
    var freeBytes: Int?
    var heapError: String?

    /// Live heap: allocated in the arenas plus the mmapped chunks (also live).
    var liveHeapBytes: Int? { allocatedBytes.flatMap { a in mmappedBytes.map { a + $0 } } }

    /// - Parameter kernelFiguresLast: read smaps_rollup after gdb has run, not before. For
    ///   the baseline: the first allocator call on the stopped thread leaves ~410 KB of
    ///   jemalloc's per-thread state (measured; a call of `getpid` left 12 KB), which
    ///   belongs in the baseline, not in the connections' share. A later call adds nothing.
    static func read(pid: Int32, kernelFiguresLast: Bool = false) throws(LoadTestError) -> ServerMemory {
        var m = ServerMemory(rssBytes: 0, anonymousBytes: 0, privateDirtyBytes: 0)
        if !kernelFiguresLast { try m.readKernelFigures(pid: pid) }
        readAllocatorFigures(pid: pid, into: &m)
        if kernelFiguresLast { try m.readKernelFigures(pid: pid) }
        return m
    }

    private mutating func readKernelFigures(pid: Int32) throws(LoadTestError) {
        let path = "/proc/\(pid)/smaps_rollup"
        guard let text = ProcessStats.readSmallFile(path) else { throw .serverProcessUnreadable(pid: pid, path: path) }
        func kib(_ key: String) -> Int {
            for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
                return (Int(line.dropFirst(key.count + 1).filter(\.isNumber)) ?? 0) * 1024
            }
            return 0
        }
        (rssBytes, anonymousBytes, privateDirtyBytes) = (kib("Rss"), kib("Anonymous"), kib("Private_Dirty"))
    }

    private static func readAllocatorFigures(pid: Int32, into m: inout ServerMemory) {
        switch jemallocStats(pid: pid) {
        case .success(let v):
            (m.arenaBytes, m.mmappedBytes, m.allocatedBytes, m.freeBytes) = (v[1], 0, v[0], max(0, v[1] - v[0]))
            return
        case .failure:
            break
        }
        switch mallinfo2(pid: pid) {
        case .success(let v):
            (m.arenaBytes, m.mmappedBytes, m.allocatedBytes, m.freeBytes) = (v[0], v[1], v[2], v[3])
        case .failure(let e):
            m.heapError = e.reason
        }
    }

    struct Unreadable: Error { var reason: String }

    /// [allocated, resident] from jemalloc, through presenced's own functions run by gdb.
    static func jemallocStats(pid: Int32) -> Result<[Int], Unreadable> {
        gdbValues(pid: pid, label: "jemalloc", count: 2, commands: [
            "printf \"jemalloc %lu %lu\\n\", (unsigned long)cjemalloc_heap_allocated_bytes(), (unsigned long)cjemalloc_heap_resident_bytes()"])
    }

    /// [arena, hblkhd, uordblks, fordblks] from `mallinfo2()` run inside the process by gdb
    /// (the struct type comes from glibc's debug symbols, Debian's libc6-dbg).
    static func mallinfo2(pid: Int32) -> Result<[Int], Unreadable> {
        gdbValues(pid: pid, label: "mallinfo2", count: 4, commands: [
            "set $m = (struct mallinfo2)mallinfo2()",
            "printf \"mallinfo2 %lu %lu %lu %lu\\n\", $m.arena, $m.hblkhd, $m.uordblks, $m.fordblks"])
    }

    /// Runs `commands` in the stopped process and reads the `count` numbers of the line that
    /// starts with `label`.
    static func gdbValues(pid: Int32, label: String, count: Int, commands: [String]) -> Result<[Int], Unreadable> {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = ["60", "gdb", "-nx", "-batch", "-p", "\(pid)", "-iex", "set debuginfod enabled off"]
            + commands.flatMap { ["-ex", $0] }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return .failure(Unreadable(reason: "cannot run gdb: \(error)")) }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix(label + " ") {
            let values = line.split(separator: " ").dropFirst().compactMap { Int($0) }
            if values.count == count { return .success(values) }
        }
        return .failure(Unreadable(reason: "gdb printed no \(label) (exit \(process.terminationStatus)): \(text.suffix(300))"))
    }

    /// The server's MALLOC_ARENA_MAX, if its environment sets it.
    static func mallocArenaMax(pid: Int32) -> String? {
        guard let environment = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ")) else { return nil }
        for entry in environment.split(separator: 0) {
            let text = String(decoding: entry, as: UTF8.self)
            if text.hasPrefix("MALLOC_ARENA_MAX=") { return String(text.dropFirst("MALLOC_ARENA_MAX=".count)) }
        }
        return nil
    }
}

/// `idle --server-heap`: the server's memory before the connections and with them open, and
/// the difference per connection (per signed-in session with --signed-in).
struct ServerMemoryReport: Codable {
    var before: ServerMemory
    var after: ServerMemory
    var connections: Int
    var mallocArenaMax: String?
    var rssBytesPerConnection: Double
    var anonymousBytesPerConnection: Double
    var privateDirtyBytesPerConnection: Double
    /// mallinfo2 (uordblks + hblkhd) after − before, per connection: what the server's
    /// objects hold. The rest of the RSS growth is free space the allocator kept.
    var liveHeapBytesPerConnection: Double?
    /// (arena + hblkhd) after − before, per connection: heap obtained from the system.
    var heapFromSystemBytesPerConnection: Double?
    /// fordblks after − before, per connection: free inside the arenas.
    var freeInArenasBytesPerConnection: Double?

    init(before: ServerMemory, after: ServerMemory, connections: Int, mallocArenaMax: String?) {
        self.before = before
        self.after = after
        self.connections = connections
        self.mallocArenaMax = mallocArenaMax
        let n = Double(max(1, connections))
        func per(_ a: Int?, _ b: Int?) -> Double? { a.flatMap { a in b.map { (Double(a - $0) / n).rounded() } } }
        rssBytesPerConnection = per(after.rssBytes, before.rssBytes) ?? 0
        anonymousBytesPerConnection = per(after.anonymousBytes, before.anonymousBytes) ?? 0
        privateDirtyBytesPerConnection = per(after.privateDirtyBytes, before.privateDirtyBytes) ?? 0
        liveHeapBytesPerConnection = per(after.liveHeapBytes, before.liveHeapBytes)
        func fromSystem(_ m: ServerMemory) -> Int? { m.arenaBytes.flatMap { a in m.mmappedBytes.map { a + $0 } } }
        heapFromSystemBytesPerConnection = per(fromSystem(after), fromSystem(before))
        freeInArenasBytesPerConnection = per(after.freeBytes, before.freeBytes)
    }

    var line: String {
        let heap = liveHeapBytesPerConnection.map { "live heap \(f($0)) B" } ?? "live heap ? (\(after.heapError ?? before.heapError ?? "?"))"
        return "server per connection: RSS \(f(rssBytesPerConnection)) B (anonymous \(f(anonymousBytesPerConnection)), "
            + "private dirty \(f(privateDirtyBytesPerConnection))), \(heap), heap from the system "
            + "\(heapFromSystemBytesPerConnection.map { f($0) } ?? "?") B, free in arenas \(freeInArenasBytesPerConnection.map { f($0) } ?? "?") B"
            + "; MALLOC_ARENA_MAX \(mallocArenaMax ?? "unset")"
    }
}
