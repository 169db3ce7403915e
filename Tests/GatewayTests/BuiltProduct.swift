import Foundation

/// An executable of this package, run as a child process: the tests that must see what an
/// operator sees (exit status, standard error, signals) start the real binary.
///
/// `swift build --build-tests` builds every product into the directory that holds the
/// test bundle, so the binaries are looked up next to it.
struct BuiltProduct {
    let url: URL

    init(_ name: String) throws {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            Bundle.main.bundleURL.deletingLastPathComponent(),
            Bundle.main.bundleURL,
            URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "/").deletingLastPathComponent(),
        ]
        for directory in candidates {
            let url = directory.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: url.path) {
                self.url = url
                return
            }
        }
        throw Missing(name: name, searched: candidates.map(\.path))
    }

    struct Missing: Error, CustomStringConvertible {
        let name: String
        let searched: [String]
        var description: String { "\(name) is not built next to the tests (looked in \(searched)); run swift build --build-tests" }
    }

    /// The environment of this process without any `PRESENCE_…` variable, so a test's
    /// configuration is exactly what it passes.
    static func cleanEnvironment(_ extra: [String: String] = [:]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PRESENCE_") }
        environment.merge(extra) { _, new in new }
        return environment
    }

    /// A started child; its output goes to files so that nothing blocks on a full pipe.
    final class Running {
        let process = Process()
        let outputPath: String
        let errorPath: String

        init(_ product: BuiltProduct, _ arguments: [String], environment: [String: String], input: String? = nil) throws {
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("product-\(UUID().uuidString)").path
            outputPath = base + ".out"
            errorPath = base + ".err"
            _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
            _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
            process.executableURL = product.url
            process.arguments = arguments
            process.environment = environment
            process.standardOutput = FileHandle(forWritingAtPath: outputPath)
            process.standardError = FileHandle(forWritingAtPath: errorPath)
            let stdin = Pipe()
            process.standardInput = stdin
            try process.run()
            if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
            try? stdin.fileHandleForWriting.close()
        }

        deinit {
            if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
            try? FileManager.default.removeItem(atPath: outputPath)
            try? FileManager.default.removeItem(atPath: errorPath)
        }

        var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }
        var errorOutput: String { (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "" }

        /// Waits at most `seconds` for the exit. - Returns: the exit status, nil on timeout
        /// (the child is then killed) or when a signal ended it.
        func waitForExit(seconds: Double) -> Int32? {
            let deadline = Date().addingTimeInterval(seconds)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                return nil
            }
            return process.terminationReason == .exit ? process.terminationStatus : nil
        }

        /// Waits at most `seconds` until standard error matches `pattern`. - Returns: the
        /// first capture group, nil on timeout or exit.
        func awaitError(matching pattern: String, seconds: Double) -> String? {
            let regex = try! NSRegularExpression(pattern: pattern)
            let deadline = Date().addingTimeInterval(seconds)
            repeat {
                let text = errorOutput
                if let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
                   let range = Range(match.range(at: match.numberOfRanges > 1 ? 1 : 0), in: text) {
                    return String(text[range])
                }
                if !process.isRunning { return nil }
                Thread.sleep(forTimeInterval: 0.05)
            } while Date() < deadline
            return nil
        }
    }

    /// Runs to completion (bounded). - Returns: exit status (nil: timed out or signalled),
    /// standard output and standard error.
    func run(_ arguments: [String], environment: [String: String] = BuiltProduct.cleanEnvironment(), input: String? = nil,
             seconds: Double = 30) throws -> (status: Int32?, output: String, error: String) {
        let child = try Running(self, arguments, environment: environment, input: input)
        let status = child.waitForExit(seconds: seconds)
        return (status, child.output, child.errorOutput)
    }
}
