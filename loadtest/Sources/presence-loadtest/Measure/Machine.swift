import Glibc

/// The machine and build a report was measured on, so figures are never read without them.
struct Machine: Codable {
    var cores: Int
    var model: String
    var kernel: String
    var memoryBytes: Int
    /// "release" or "debug": how presence-loadtest itself was compiled.
    var loadtestBuild: String
    var compiler: String

    static func current() -> Machine {
        let cpuinfo = ProcessStats.readSmallFile("/proc/cpuinfo") ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingSpaces() } ?? "unknown"
        var name = utsname()
        uname(&name)
        let kernel = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let meminfo = ProcessStats.readSmallFile("/proc/meminfo") ?? ""
        let memKiB = meminfo.split(separator: "\n").first { $0.hasPrefix("MemTotal:") }
            .flatMap { Int($0.filter { $0.isNumber }) } ?? 0
        #if DEBUG
        let build = "debug"
        #else
        let build = "release"
        #endif
        #if compiler(>=6.3)
        let compiler = "swift 6.3+"
        #elseif compiler(>=6.2)
        let compiler = "swift 6.2"
        #else
        let compiler = "swift < 6.2"
        #endif
        return Machine(cores: Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), model: model, kernel: kernel,
                       memoryBytes: memKiB * 1024, loadtestBuild: build, compiler: compiler)
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
