/// The text of an echo message: a small JSON object that carries its own send time,
/// sequence number and connection, so an answer is checked and timed without any
/// per-message bookkeeping:
///
///     {"t":"<16 hex ns>","s":"<8 hex seq>","c":"<8 hex conn>","p":"<seeded filler>"}
///
/// The filler is the same for every message of a run (it comes from the seed), so an
/// answer is verified byte for byte by comparing it with the template.
struct EchoPayload {
    /// The shortest payload: the 61 bytes of fields and quotes plus a little filler.
    static let minimumSize = 64
    static let timeOffset = 6, sequenceOffset = 29, connectionOffset = 44

    /// The template; only the three hex fields change per message.
    let template: [UInt8]

    init(size: Int, seed: UInt64) {
        precondition(size >= Self.minimumSize)
        var bytes = Array(#"{"t":"0000000000000000","s":"00000000","c":"00000000","p":""#.utf8)
        var rng = SeededGenerator(seed: seed ^ 0x5041_594C_4F41_4400)
        // Lower-case words with spaces: compresses about as well as real chat JSON.
        let letters = Array("etaoinshrdlucmfwypvbgk".utf8)
        while bytes.count < size - 2 {
            bytes.append(rng.next() % 6 == 0 ? UInt8(ascii: " ") : letters[Int(rng.next() % UInt64(letters.count))])
        }
        bytes += Array(#""}"#.utf8)
        template = bytes
    }

    /// Writes the three fields into `buffer`, which already holds the template.
    @inline(__always)
    static func stamp(_ buffer: UnsafeMutableRawBufferPointer, time: UInt64, sequence: UInt32, connection: UInt32) {
        writeHex(time, digits: 16, to: buffer.baseAddress! + timeOffset)
        writeHex(UInt64(sequence), digits: 8, to: buffer.baseAddress! + sequenceOffset)
        writeHex(UInt64(connection), digits: 8, to: buffer.baseAddress! + connectionOffset)
    }

    /// The send time of an answer, or nil if it is not the expected message of this
    /// connection (wrong length, sequence, connection or filler).
    @inline(__always)
    func check(_ answer: UnsafeRawBufferPointer, sequence: UInt32, connection: UInt32) -> UInt64? {
        guard answer.count == template.count, let base = answer.baseAddress,
              let time = Self.readHex(base + Self.timeOffset, digits: 16),
              Self.readHex(base + Self.sequenceOffset, digits: 8) == UInt64(sequence),
              Self.readHex(base + Self.connectionOffset, digits: 8) == UInt64(connection)
        else { return nil }
        let fillerStart = Self.connectionOffset + 8
        let same = template.withUnsafeBytes { t in
            memcmp(t.baseAddress! + fillerStart, base + fillerStart, t.count - fillerStart) == 0
        }
        return same ? time : nil
    }

    @inline(__always)
    static func writeHex(_ value: UInt64, digits: Int, to p: UnsafeMutableRawPointer) {
        var v = value
        var i = digits - 1
        while i >= 0 {
            let nibble = UInt8(truncatingIfNeeded: v & 0xF)
            p.storeBytes(of: nibble < 10 ? 48 + nibble : 87 + nibble, toByteOffset: i, as: UInt8.self)
            v >>= 4
            i -= 1
        }
    }

    @inline(__always)
    static func readHex(_ p: UnsafeRawPointer, digits: Int) -> UInt64? {
        var v: UInt64 = 0
        for i in 0..<digits {
            let c = p.load(fromByteOffset: i, as: UInt8.self)
            let nibble: UInt8
            switch c {
            case 48...57: nibble = c - 48
            case 97...102: nibble = c - 87
            default: return nil
            }
            v = v << 4 | UInt64(nibble)
        }
        return v
    }
}

import Glibc
