import WebSocket

/// The cost of finding the end of an 8 KiB request head that arrives a byte at a time:
/// scanning from the start on every read (what the transport did before `HTTPHeadScanner`)
/// against scanning only the new byte. One operation is one whole head.
enum HeadScanBenchmarks {
    final class Fixture {
        let head: [UInt8] = {
            var text = "GET /healthz HTTP/1.1\r\nHost: x\r\n"
            while text.utf8.count < 8192 - 40 { text += "X-Pad: \(String(repeating: "p", count: 60))\r\n" }
            return Array((text + "\r\n").utf8)
        }()
        var found = 0
    }

    static func all(_ x: Fixture) -> [Benchmark] {
        [
            Benchmark(name: "head scan, 8 KiB a byte at a time, from the start on every read (before)", operationsPerCall: 1,
                      bytesPerOperation: x.head.count) {
                x.head.withUnsafeBytes { all in
                    for n in 1...all.count {
                        if let end = HTTPRequestParser.findEndOfHead(UnsafeRawBufferPointer(rebasing: all[0..<n])) { x.found &+= end }
                    }
                }
            },
            Benchmark(name: "head scan, 8 KiB a byte at a time, HTTPHeadScanner (after)", operationsPerCall: 1,
                      bytesPerOperation: x.head.count) {
                var scanner = HTTPHeadScanner()
                x.head.withUnsafeBytes { all in
                    for n in 1...all.count {
                        if let end = scanner.headLength(in: UnsafeRawBufferPointer(rebasing: all[0..<n])) { x.found &+= end }
                    }
                }
            },
        ]
    }

    /// Bytes looked at for one head, by each method (printed beside the timings).
    static func bytesExamined(_ x: Fixture) -> (before: Int, after: Int) {
        let n = x.head.count
        // Rescanning looks at every byte of each prefix up to the last 3 (a 4-byte window).
        let before = (4...n).reduce(0) { $0 + ($1 - 3) }
        var scanner = HTTPHeadScanner()
        x.head.withUnsafeBytes { all in
            for k in 1...n { _ = scanner.headLength(in: UnsafeRawBufferPointer(rebasing: all[0..<k])) }
        }
        return (before, scanner.bytesExamined)
    }
}
