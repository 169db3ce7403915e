import Glibc

/// What /proc tells about a process (the server under test), and getrusage about this one.
enum ProcessStats {
    /// One reading of a process's CPU time and memory.
    struct Sample {
        /// User plus system CPU time, seconds.
        var cpuSeconds: Double
        /// Resident set size (VmRSS), bytes.
        var residentBytes: Int
    }

    /// The server's VmRSS and CPU time from /proc/PID/status and /proc/PID/stat.
    static func sample(pid: Int32) throws(LoadTestError) -> Sample {
        Sample(cpuSeconds: try cpuSeconds(pid: pid), residentBytes: try residentBytes(pid: pid))
    }

    /// VmRSS of /proc/PID/status, in bytes.
    static func residentBytes(pid: Int32) throws(LoadTestError) -> Int {
        let path = "/proc/\(pid)/status"
        guard let text = readSmallFile(path) else { throw .serverProcessUnreadable(pid: pid, path: path) }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let digits = line.dropFirst(6).filter { $0.isNumber }
            if let kib = Int(digits) { return kib * 1024 }
        }
        throw .serverProcessUnreadable(pid: pid, path: path)
    }

    /// utime + stime (fields 14 and 15 of /proc/PID/stat), in seconds.
    static func cpuSeconds(pid: Int32) throws(LoadTestError) -> Double {
        let path = "/proc/\(pid)/stat"
        guard let text = readSmallFile(path), let close = text.lastIndex(of: ")") else {
            throw .serverProcessUnreadable(pid: pid, path: path)
        }
        // The command name (field 2) may hold spaces; fields after ")" start at field 3.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else {
            throw .serverProcessUnreadable(pid: pid, path: path)
        }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Open descriptors of a process: the entries of /proc/PID/fd.
    static func openFileCount(pid: Int32) -> Int? {
        guard let dir = opendir("/proc/\(pid)/fd") else { return nil }
        defer { closedir(dir) }
        var count = 0
        while readdir(dir) != nil { count += 1 }
        return count - 2  // "." and ".."
    }

    /// The soft "Max open files" of /proc/PID/limits.
    static func openFileLimit(pid: Int32) -> Int? {
        guard let text = readSmallFile("/proc/\(pid)/limits") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("Max open files") {
            let numbers = line.split(separator: " ").compactMap { Int($0) }
            return numbers.first
        }
        return nil
    }

    /// This process's user plus system CPU time, seconds (getrusage).
    static func ownCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// This process's own VmRSS.
    static func ownResidentBytes() -> Int { (try? residentBytes(pid: getpid())) ?? 0 }

    /// Whether the process exists (kill with signal 0).
    static func isAlive(pid: Int32) -> Bool { kill(pid, 0) == 0 || errno == EPERM }

    /// Reads a /proc text file (they report size 0, so read until EOF).
    static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes += chunk[0..<n]
            if bytes.count > 1 << 20 { break }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
