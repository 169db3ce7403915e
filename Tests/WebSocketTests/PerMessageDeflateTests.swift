import Testing
@testable import WebSocket

/// RFC 7692 §7.1 negotiation and §7.2 compression.
@Suite struct PerMessageDeflateTests {
    typealias P = PerMessageDeflate.Parameters

    @Test(arguments: [
        ("permessage-deflate", P(serverNoContextTakeover: true)),
        ("permessage-deflate; client_no_context_takeover", P(serverNoContextTakeover: true, clientNoContextTakeover: true)),
        ("permessage-deflate; server_no_context_takeover", P(serverNoContextTakeover: true)),
        ("permessage-deflate; server_max_window_bits=10", P(serverNoContextTakeover: true, serverMaxWindowBits: 10)),
        ("permessage-deflate; server_max_window_bits=8", P(serverNoContextTakeover: true, serverMaxWindowBits: 8)),
        ("permessage-deflate; client_max_window_bits", P(serverNoContextTakeover: true)),
        ("permessage-deflate; client_max_window_bits=9", P(serverNoContextTakeover: true)),
        ("permessage-deflate; server_max_window_bits=\"12\"", P(serverNoContextTakeover: true, serverMaxWindowBits: 12)),
        // The first offer is declined (unknown parameter), the second accepted.
        ("permessage-deflate; foo=1, permessage-deflate; client_no_context_takeover", P(serverNoContextTakeover: true, clientNoContextTakeover: true)),
        ("x-webkit-deflate-frame, permessage-deflate", P(serverNoContextTakeover: true)),
    ])
    func acceptableOffers(offer: String, expected: P) {
        #expect(PerMessageDeflate.negotiate(offers: offer) == expected)
    }

    @Test(arguments: [
        "permessage-deflate; server_max_window_bits",  // needs a value
        "permessage-deflate; server_max_window_bits=7", "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=09", "permessage-deflate; client_max_window_bits=0",
        "permessage-deflate; client_max_window_bits=abc",
        "permessage-deflate; server_no_context_takeover=1", "permessage-deflate; client_no_context_takeover=x",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",  // duplicate
        "permessage-deflate; unknown_parameter", "x-webkit-deflate-frame", "permessage-deflate;;",
    ])
    func offersThatMustBeDeclined(offer: String) {
        #expect(PerMessageDeflate.negotiate(offers: offer) == nil)
    }

    @Test func responseNamesEveryAgreedParameter() {
        let p = P(serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10)
        #expect(p.responseHeaderValue == "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10")
    }

    func roundTrip(_ message: [UInt8], windowBits: Int) throws -> [UInt8] {
        let d = Deflater(windowBits: windowBits)
        var compressed: [UInt8] = []
        message.withUnsafeBytes { d.compress($0, into: &compressed) }
        var out: [UInt8] = []
        try compressed.withUnsafeBytes { try Inflater().inflate($0, isLast: true, into: &out, limit: 1 << 24) }
        return out
    }

    @Test(arguments: [8, 9, 12, 15])
    func compressThenInflateRestoresTheMessage(windowBits: Int) throws {
        let message = Array(String(repeating: "presence update for alice@example.com; ", count: 200).utf8)
        #expect(try roundTrip(message, windowBits: windowBits) == message)
        #expect(try roundTrip([], windowBits: windowBits) == [])
    }

    @Test func compressedTextMessageIsInflatedAndValidated() {
        let d = Deflater(windowBits: 15)
        let text = String(repeating: "hello ", count: 100)
        var compressed: [UInt8] = []
        Array(text.utf8).withUnsafeBytes { d.compress($0, into: &compressed) }
        var r = serverReader(inflation: .shared(Inflater()))
        // Split over two fragments; only the first carries RSV1.
        let half = compressed.count / 2
        let bytes = clientFrame(.text, Array(compressed[..<half]), fin: false, rsv1: true)
            + clientFrame(.continuation, Array(compressed[half...]))
        #expect(read(bytes, chunk: 5, reader: &r).seen == [.text(text)])
    }

    @Test func decompressionBombStopsAtTheMessageLimit() {
        let d = Deflater(windowBits: 15)
        var compressed: [UInt8] = []
        [UInt8](repeating: 0, count: 4 << 20).withUnsafeBytes { d.compress($0, into: &compressed) }
        #expect(compressed.count < 40_000)  // level 1: still over 100:1
        var r = serverReader(maxMessage: 64 * 1024, inflation: .own(nil))
        let (_, error) = read(clientFrame(.binary, compressed, rsv1: true), reader: &r)
        #expect(error == .messageTooLarge)
        #expect(error?.closeCode == .messageTooBig)
    }

    @Test func corruptCompressedDataClosesWith1007() {
        var r = serverReader(inflation: .own(nil))
        let (_, error) = read(clientFrame(.binary, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF], rsv1: true), reader: &r)
        #expect(error == .invalidCompressedData)
        #expect(error?.closeCode == .invalidPayload)
    }

    @Test func contextTakeoverAcrossMessagesWithOwnInflater() throws {
        // A client with context takeover: the second message refers back into the first.
        var r = serverReader(inflation: .own(nil))
        let z = RawStream()
        let m1 = z.compress(Array("the same words again and again".utf8))
        let m2 = z.compress(Array("the same words again and again".utf8))
        #expect(m2.count < m1.count)
        let (seen, error) = read(clientFrame(.text, m1, rsv1: true) + clientFrame(.text, m2, rsv1: true), reader: &r)
        #expect(error == nil)
        #expect(seen == [.text("the same words again and again"), .text("the same words again and again")])
    }
}

import CZlib

/// A client-side deflate stream that keeps its context between messages.
final class RawStream {
    let s = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    init() {
        s.initialize(to: z_stream())
        _ = czlib_deflate_init_raw(s, 6, 15, 8, Z_DEFAULT_STRATEGY)
    }
    deinit { deflateEnd(s); s.deallocate() }
    func compress(_ input: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: input.count + 64)
        var input = input
        let produced = input.withUnsafeMutableBufferPointer { i in
            out.withUnsafeMutableBufferPointer { o in
                s.pointee.next_in = i.baseAddress
                s.pointee.avail_in = uInt(i.count)
                s.pointee.next_out = o.baseAddress
                s.pointee.avail_out = uInt(o.count)
                deflate(s, Z_SYNC_FLUSH)
                return o.count - Int(s.pointee.avail_out)
            }
        }
        return Array(out[0..<(produced - 4)])
    }
}
