import Glibc
import WebSocket

/// The hot paths of the transport, each over data built once up front.
enum HotPathBenchmarks {
    /// A presence-event-sized JSON message (~200 bytes), the typical gateway payload.
    static let presenceJSON = Array(#"{"type":"presence","user":"u_8f3a2c91","status":"online","device":"desktop","since":1718040000123,"activity":"in a call","contacts":["u_1","u_2","u_3"],"seq":48213,"hidden":false}"#.utf8)

    /// Memory the benchmark bodies work in; allocated once, outside any measurement.
    final class Fixture {
        let frameCount = 1000
        var maskedFrames: [UInt8] = []   // binary frames, unmasked in place alternately
        var pristineText: [UInt8] = []   // masked text frames, copied in before each pass
        var workText: [UInt8] = []
        var decoder = FrameDecoder(role: .server, maxFrameSize: 1 << 20)
        var reader = MessageReader(role: .server, maxFrameSize: 1 << 20, maxMessageSize: 1 << 20)
        let out = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        var appendBuffer: [UInt8] = []
        let small = UnsafeMutableRawBufferPointer.allocate(byteCount: 128, alignment: 16)
        let large = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        var mixedText: [UInt8] = []
        var compressed: [UInt8] = []
        var inflated: [UInt8] = []
        let deflater8 = Deflater(windowBits: 15, level: 1, memLevel: 8)
        let deflater1 = Deflater(windowBits: 15, level: 1, memLevel: 1)
        let inflater = Inflater()
        var delivered = 0

        init() {
            var g = SeededGenerator(seed: 7)
            let payload = Array(presenceJSON.prefix(64))
            for _ in 0..<frameCount {
                let key = UInt32(truncatingIfNeeded: g.next())
                payload.withUnsafeBytes { FrameEncoder.append(opcode: .binary, payload: $0, maskKey: key, to: &maskedFrames) }
                payload.withUnsafeBytes { FrameEncoder.append(opcode: .text, payload: $0, maskKey: key, to: &pristineText) }
            }
            workText = pristineText
            for i in 0..<128 { small[i] = UInt8(truncatingIfNeeded: g.next()) }
            for i in 0..<large.count { large[i] = UInt8(truncatingIfNeeded: g.next()) }
            let sample = Array("presence état 在线 статус 🟢 ".utf8)
            while mixedText.count < 4096 - sample.count { mixedText += sample }
            appendBuffer.reserveCapacity(4096)
            compressed.reserveCapacity(4096)
            inflated.reserveCapacity(4096)
            presenceJSON.withUnsafeBytes { deflater8.compress($0, into: &compressed) }
        }
    }

    static func all(_ x: Fixture) -> [Benchmark] {
        let frameBytes = x.maskedFrames.count / x.frameCount
        return [
            Benchmark(name: "frame decode + unmask (FrameDecoder, 64 B binary frames)", operationsPerCall: x.frameCount, bytesPerOperation: frameBytes) {
                x.maskedFrames.withUnsafeMutableBytes { buffer in
                    var index = 0
                    var n = 0
                    while let chunk = try? x.decoder.next(buffer, index: &index) { n &+= chunk.payload.count }
                    x.delivered &+= n
                }
            },
            Benchmark(name: "message read (MessageReader, 64 B text, UTF-8 checked; incl. 1 memcpy/frame to re-mask)", operationsPerCall: x.frameCount, bytesPerOperation: frameBytes) {
                x.pristineText.withUnsafeBytes { src in x.workText.withUnsafeMutableBytes { $0.copyMemory(from: src) } }
                x.workText.withUnsafeMutableBytes { buffer in
                    try? x.reader.read(buffer) { event in
                        if case .text(let p) = event { x.delivered &+= p.count }
                        return true
                    }
                }
            },
            Benchmark(name: "frame encode, server (header + copy of 128 B)", operationsPerCall: 1, bytesPerOperation: 128) {
                let n = FrameEncoder.writeHeader(opcode: .text, payloadLength: 128, to: x.out.baseAddress!)
                (x.out.baseAddress! + n).copyMemory(from: x.small.baseAddress!, byteCount: 128)
                x.delivered &+= n
            },
            Benchmark(name: "frame encode, client (FrameEncoder.append + mask 128 B)", operationsPerCall: 1, bytesPerOperation: 128) {
                x.appendBuffer.removeAll(keepingCapacity: true)
                FrameEncoder.append(opcode: .text, payload: UnsafeRawBufferPointer(x.small), maskKey: 0x1234_5678, to: &x.appendBuffer)
            },
            Benchmark(name: "unmask 128 B", operationsPerCall: 1, bytesPerOperation: 128) {
                Masking.unmask(x.small, key: 0xA1B2_C3D4, offset: 1)
            },
            Benchmark(name: "unmask 64 KiB", operationsPerCall: 1, bytesPerOperation: 64 * 1024) {
                Masking.unmask(x.large, key: 0xA1B2_C3D4, offset: 0)
            },
            Benchmark(name: "UTF-8 validate ~200 B ASCII JSON", operationsPerCall: 1, bytesPerOperation: presenceJSON.count) {
                presenceJSON.withUnsafeBytes { if UTF8Validator.isValid($0) { x.delivered &+= 1 } }
            },
            Benchmark(name: "UTF-8 validate 4 KiB mixed (2-4 byte sequences)", operationsPerCall: 1, bytesPerOperation: x.mixedText.count) {
                x.mixedText.withUnsafeBytes { if UTF8Validator.isValid($0) { x.delivered &+= 1 } }
            },
            Benchmark(name: "deflate ~200 B JSON (level 1, memLevel 8: the server's setting)", operationsPerCall: 1, bytesPerOperation: presenceJSON.count) {
                x.compressed.removeAll(keepingCapacity: true)
                presenceJSON.withUnsafeBytes { x.deflater8.compress($0, into: &x.compressed) }
            },
            Benchmark(name: "deflate ~200 B JSON (level 1, memLevel 1)", operationsPerCall: 1, bytesPerOperation: presenceJSON.count) {
                x.inflated.removeAll(keepingCapacity: true)
                presenceJSON.withUnsafeBytes { x.deflater1.compress($0, into: &x.inflated) }
            },
            Benchmark(name: "inflate ~200 B JSON (shared inflater, reset per message)", operationsPerCall: 1, bytesPerOperation: presenceJSON.count) {
                x.inflated.removeAll(keepingCapacity: true)
                x.inflater.reset()
                x.compressed.withUnsafeBytes { try? x.inflater.inflate($0, isLast: true, into: &x.inflated, limit: 1 << 20) }
            },
        ]
    }
}
