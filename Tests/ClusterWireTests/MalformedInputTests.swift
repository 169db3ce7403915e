import ClusterWire
import Presence
import Testing

/// Whatever arrives, the decoder answers with a value or a `ClusterWireError`: it never
/// traps, and never reserves room for what a count claims but the bytes do not hold.
struct MalformedInputTests {
    /// A real batch: up to three short edge messages of every case, so that per-prefix and
    /// per-byte runs stay fast in a debug build.
    static let batchBytes: [UInt8] = {
        var perCase: [String: Int] = [:]
        let messages = Edge.messages.filter { message in
            guard encoded(message).count < 400 else { return false }
            perCase[caseName(message), default: 0] += 1
            return perCase[caseName(message)]! <= 3
        }
        return encoded(ShardBatch(header: sampleHeader(), messages: messages))
    }()

    @Test func testEveryTruncationOfARealBatchThrows() {
        let bytes = Self.batchBytes
        // The whole decodes, and holds every case.
        #expect(Set(((try? ClusterWire.decodeBatch(bytes))?.messages ?? []).map(caseName)) == Set(messageTags.keys))
        for length in 0..<bytes.count {
            switch decodeOutcome(Array(bytes[..<length])) {
            case .success:
                Issue.record("a \(length)-byte prefix of \(bytes.count) decoded")
            case .failure(.truncated), .failure(.countBeyondEnd):
                break
            case .failure(let error):
                Issue.record("a \(length)-byte prefix: unexpected \(error)")
            }
        }
    }

    @Test func testEveryTruncationOfEachMessageThrows() {
        for message in Edge.messages {
            let bytes = encoded(message)
            // Long messages are long strings or arrays: every cut near the ends, and a
            // sample in between, where every cut is alike.
            let lengths = bytes.count <= 2_000 ? Array(0..<bytes.count)
                : Array(0..<64) + Array(stride(from: 64, to: bytes.count - 64, by: 97)) + Array((bytes.count - 64)..<bytes.count)
            for length in lengths {
                #expect(throws: ClusterWireError.self, "\(caseName(message)) cut at \(length)") {
                    try ClusterWire.decodeMessage(bytes[..<length])
                }
            }
        }
    }

    @Test func testAnEmptyInputIsTruncatedAtZero() {
        #expect(throws: ClusterWireError.truncated(offset: 0)) { try ClusterWire.decodeBatch([UInt8]()) }
    }

    @Test func testCorruptedBytesEitherThrowOrDecodeToWhatTheyEncode() {
        // Every position, several corruptions each; then random multi-byte damage.
        let bytes = Self.batchBytes
        var decoded = 0, refused = 0
        func check(_ damaged: [UInt8]) {
            switch decodeOutcome(damaged) {
            case .success(let batch):
                decoded += 1
                // What decodes is canonical: it encodes back to exactly these bytes.
                #expect(encoded(batch) == damaged)
            case .failure:
                refused += 1
            }
        }
        for position in bytes.indices {
            for mask: UInt8 in [0x01, 0x02, 0x40, 0x80, 0xFF] {
                var damaged = bytes
                damaged[position] ^= mask
                check(damaged)
            }
        }
        var random = SeededGenerator(seed: 0xF1A9)
        for _ in 0..<3_000 {
            var damaged = bytes
            for _ in 0..<Int.random(in: 1...8, using: &random) {
                damaged[Int.random(in: damaged.indices, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            check(damaged)
        }
        // Both outcomes happen: flips inside text and numbers decode, flips in structure don't.
        #expect(decoded > 500)
        #expect(refused > 500)
    }

    @Test func testRandomGarbageNeverTraps() {
        var random = SeededGenerator(seed: 99)
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...80, using: &random)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            if !bytes.isEmpty { bytes[0] = ClusterWire.version }
            _ = decodeOutcome(bytes)
            _ = Result { () throws(ClusterWireError) in try ClusterWire.decodeMessage(bytes.dropFirst()) }
        }
    }

    @Test func testUnknownVersionsAreRefusedBeforeAnythingElse() {
        var bytes = encoded(ShardBatch(header: sampleHeader(), messages: [.callBusy(CallID(1))]))
        for version: UInt8 in [0, 2, 255] {
            bytes[0] = version
            #expect(throws: ClusterWireError.unsupportedVersion(version)) { try ClusterWire.decodeBatch(bytes) }
            // Even with nothing after it.
            #expect(throws: ClusterWireError.unsupportedVersion(version)) { try ClusterWire.decodeBatch([version]) }
            #expect(throws: ClusterWireError.unsupportedVersion(version)) { try ClusterWire.decodeHeader(bytes) }
        }
    }

    @Test func testUnknownMessageAndEventTagsAreNamedWithTheirOffset() {
        var bytes = encoded(ShardBatch(header: sampleHeader(), messages: [.callBusy(CallID(1))]))
        for tag: UInt8 in [0, 16, 255] {
            bytes[31] = tag
            #expect(throws: ClusterWireError.unknownMessageTag(tag, offset: 31)) { try ClusterWire.decodeBatch(bytes) }
        }
        var delivery = encoded(.deliverToSession(.callRinging(CallID(1)), session: SessionID(2)))
        for tag: UInt8 in [0, 19, 255] {
            delivery[1] = tag
            #expect(throws: ClusterWireError.unknownEventTag(tag, offset: 1)) { try ClusterWire.decodeMessage(delivery) }
        }
    }

    @Test func testBytesOutsideAnEnumerationAreInvalidValues() {
        // Each: a valid message, the offset of one enumeration byte, a value just past it.
        let cases: [(ShardMessage, Int, UInt8)] = [
            (.introduce(subject: user("a@b"), observer: user("c@d"), view: .offline), 9, 5),  // status
            (.introduce(subject: user("a@b"), observer: user("c@d"), view: .offline), 10, 2),  // optional flag
            (.watch(user: user("a@b"), shard: 1, isWatching: true), 6, 2),  // Boolean
            (.pairRequest(.accept, actor: user("a@b"), other: user("c@d"), seen: .accepted), 1, 4),  // change
            (.pairRequest(.accept, actor: user("a@b"), other: user("c@d"), seen: .accepted), 10, 3),  // state
            (.callFinished(CallID(1), reason: .busy), 10, 7),  // reason
            (.deliverToSession(.ownStatus(.busy), session: SessionID(1)), 2, 3),  // chosen status
        ]
        for (message, offset, value) in cases {
            var bytes = encoded(message)
            #expect((try? ClusterWire.decodeMessage(bytes)) == message)  // positive control
            bytes[offset] = value
            #expect(throws: ClusterWireError.invalidValue(value, offset: offset), "\(caseName(message))") {
                try ClusterWire.decodeMessage(bytes)
            }
        }
    }

    @Test func testAbsurdCountsAreRefusedWithoutReservingForThem() {
        // The header claims 4 billion messages.
        var bytes = encoded(ShardBatch(header: sampleHeader(), messages: [.callBusy(CallID(1))]))
        bytes.replaceSubrange(27..<31, with: [0xFF, 0xFF, 0xFF, 0xFF])
        #expect(throws: ClusterWireError.countBeyondEnd(count: 0xFFFF_FFFF, offset: 27)) {
            try ClusterWire.decodeBatch(bytes)
        }
        // More messages announced than the bytes could hold at 5 bytes each.
        bytes.replaceSubrange(27..<31, with: [2, 0, 0, 0])
        #expect(throws: ClusterWireError.countBeyondEnd(count: 2, offset: 27)) { try ClusterWire.decodeBatch(bytes) }
        // A string of 2^64 - 1 bytes, and reveals by the quintillion.
        let hugeLength: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]
        #expect(throws: ClusterWireError.countBeyondEnd(count: .max, offset: 1)) {
            try ClusterWire.decodeMessage([MessageTag.accountDeleted] + hugeLength)
        }
        let reveals = [MessageTag.published, 3, 0x61, 0x40, 0x62, 0, 0] + [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40]
        #expect(throws: ClusterWireError.countBeyondEnd(count: 1 << 62, offset: 7)) {
            try ClusterWire.decodeMessage(reveals)
        }
        // A count just within reach is not refused for its size, only for what follows.
        #expect(throws: ClusterWireError.invalidUserID(offset: 8)) {
            try ClusterWire.decodeMessage([MessageTag.published, 3, 0x61, 0x40, 0x62, 0, 0, 1] + [0, 0, 0, 0, 0, 0])
        }
    }

    @Test func testVarintsMustBeShortestAndWithin64Bits() {
        // "a@b" with its length written in two bytes: overlong.
        #expect(throws: ClusterWireError.malformedVarint(offset: 1)) {
            try ClusterWire.decodeMessage([MessageTag.accountDeleted, 0x83, 0x00, 0x61, 0x40, 0x62])
        }
        #expect((try? ClusterWire.decodeMessage([MessageTag.accountDeleted, 0x03, 0x61, 0x40, 0x62]))
            == .accountDeleted(user("a@b")))
        // Ten bytes whose last carries more than bit 63, and eleven bytes.
        #expect(throws: ClusterWireError.malformedVarint(offset: 1)) {
            try ClusterWire.decodeMessage([MessageTag.accountDeleted] + Array(repeating: 0xFF, count: 9) + [0x02])
        }
        #expect(throws: ClusterWireError.malformedVarint(offset: 1)) {
            try ClusterWire.decodeMessage([MessageTag.accountDeleted] + Array(repeating: 0x80, count: 10) + [0x01])
        }
        #expect(throws: ClusterWireError.truncated(offset: 1)) {
            try ClusterWire.decodeMessage([MessageTag.accountDeleted, 0x80, 0x80])
        }
    }

    @Test func testInvalidUTF8IsRefusedAndValidMultibyteIsNot() {
        let payloads: [[UInt8]] = [[0xFF], [0xC3], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80],
                                   [0x61, 0xE2, 0x82]]
        let prefix = encoded(.callAnswered(CallID(1), calleeSession: SessionID(2), payload: "")).dropLast()
        for payload in payloads {
            let bytes = Array(prefix) + [UInt8(payload.count)] + payload
            #expect(throws: ClusterWireError.invalidUTF8(offset: 17), "\(payload)") { try ClusterWire.decodeMessage(bytes) }
        }
        let valid: [UInt8] = [0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x91, 0x8B]
        #expect((try? ClusterWire.decodeMessage(Array(prefix) + [UInt8(valid.count)] + valid))
            == .callAnswered(CallID(1), calleeSession: SessionID(2), payload: "é€👋"))
    }

    @Test func testUserIDsMustArriveNormalized() {
        for email in ["Ann@x.io", " ann@x.io", "ann@x.io ", "annx.io", "a@b@c", "@x.io", "ann@", "", "a n@x.io",
                      String(repeating: "x", count: 251) + "@a.b", "ÉVE@x.io"] {
            let utf8 = Array(email.utf8)
            var bytes: [UInt8] = [MessageTag.accountDeleted]
            bytes += utf8.count < 128 ? [UInt8(utf8.count)] : [UInt8(utf8.count & 0x7F | 0x80), UInt8(utf8.count >> 7)]
            #expect(throws: ClusterWireError.invalidUserID(offset: 1), "\(email)") {
                try ClusterWire.decodeMessage(bytes + utf8)
            }
        }
        for email in ["ann@x.io", "éve@x.io", String(repeating: "x", count: 250) + "@a.b"] {
            #expect((try? ClusterWire.decodeMessage(encoded(.accountDeleted(user(email))))) == .accountDeleted(user(email)))
        }
    }

    @Test func testTrailingBytesAfterTheLastMessageAreRefused() {
        let batch = encoded(ShardBatch(header: sampleHeader(), messages: [.callBusy(CallID(1))]))
        #expect(throws: ClusterWireError.trailingBytes(count: 1, offset: 40)) { try ClusterWire.decodeBatch(batch + [0]) }
        #expect(throws: ClusterWireError.trailingBytes(count: 9, offset: 40)) {
            try ClusterWire.decodeBatch(batch + encoded(.callBusy(CallID(2))))
        }
        #expect(throws: ClusterWireError.trailingBytes(count: 2, offset: 9)) {
            try ClusterWire.decodeMessage(encoded(.callBusy(CallID(2))) + [1, 2])
        }
    }

    @Test func testErrorsDescribeThemselves() {
        #expect(ClusterWireError.unknownMessageTag(99, offset: 31).description == "unknown message tag 99 at byte 31")
        #expect(ClusterWireError.truncated(offset: 4).description == "input ends inside the field at byte 4")
    }
}

/// The tag bytes, for building inputs by hand (kept apart from the module's own table).
enum MessageTag {
    static let published: UInt8 = 1
    static let accountDeleted: UInt8 = 9
}
