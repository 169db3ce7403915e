import Testing
@testable import WebSocket

@Suite struct UTF8ValidatorTests {
    static let valid: [[UInt8]] = [
        [], Array("plain ascii, long enough for the eight-byte path".utf8), [0xC2, 0x80], [0xDF, 0xBF],
        [0xE0, 0xA0, 0x80], [0xED, 0x9F, 0xBF], [0xEF, 0xBF, 0xBF], [0xF0, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF],
        Array("κόσμε".utf8),
    ]
    static let invalid: [[UInt8]] = [
        [0x80], [0xBF], [0xC0, 0x80], [0xC1, 0xBF],  // stray continuation, overlong 2-byte
        [0xE0, 0x80, 0x80], [0xE0, 0x9F, 0xBF],  // overlong 3-byte
        [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF],  // UTF-16 surrogates
        [0xF0, 0x80, 0x80, 0x80], [0xF0, 0x8F, 0xBF, 0xBF],  // overlong 4-byte
        [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xFF],  // above U+10FFFF
        [0xC2, 0x41],  // lead byte followed by ASCII
    ]

    @Test(arguments: valid)
    func acceptsWellFormedSequences(bytes: [UInt8]) {
        #expect(bytes.withUnsafeBytes { UTF8Validator.isValid($0) })
    }

    @Test(arguments: invalid)
    func rejectsIllFormedSequences(bytes: [UInt8]) {
        #expect(!bytes.withUnsafeBytes { UTF8Validator.isValid($0) })
    }

    @Test func truncatedSequenceIsNotAtABoundary() {
        var v = UTF8Validator()
        #expect(([0xF0, 0x90] as [UInt8]).withUnsafeBytes { v.validate($0) })
        #expect(!v.isAtBoundary)
        #expect(([0x80, 0x80] as [UInt8]).withUnsafeBytes { v.validate($0) })
        #expect(v.isAtBoundary)
    }

    @Test func failsAtTheFirstBadByteOfAChunk() {
        var w = UTF8Validator()
        #expect(!([0x61, 0x62, 0xFF, 0x63] as [UInt8]).withUnsafeBytes { w.validate($0) })
        // Once invalid, it stays invalid.
        #expect(!([0x61] as [UInt8]).withUnsafeBytes { w.validate($0) })
    }

    @Test func textMessageWithInvalidUTF8ClosesWith1007() {
        var r = serverReader()
        let (_, error) = read(clientFrame(.text, [0x61, 0xED, 0xA0, 0x80]), reader: &r)
        #expect(error == .invalidUTF8)
        #expect(error?.closeCode == .invalidPayload)
    }

    @Test func invalidUTF8FailsFastInTheFirstFragment() {
        var r = serverReader()
        // The bad byte is in fragment 1; fragment 2 never needs to arrive.
        let (_, error) = read(clientFrame(.text, [0xCE, 0xBA, 0xF5], fin: false), reader: &r)
        #expect(error == .invalidUTF8)
    }

    @Test func codePointSplitAcrossFragmentsIsValid() {
        var r = serverReader()
        let bytes = clientFrame(.text, [0xCE], fin: false) + clientFrame(.continuation, [0xBA])
        #expect(read(bytes, reader: &r).seen == [.text("κ")])
    }

    @Test func messageEndingMidCodePointClosesWith1007() {
        var r = serverReader()
        #expect(read(clientFrame(.text, [0x61, 0xCE]), reader: &r).error == .invalidUTF8)
    }
}

@Suite struct MaskingTests {
    @Test(arguments: [0, 1, 2, 3])
    func unmaskingAtAnyKeyOffsetMatchesTheBytewiseDefinition(offset: Int) {
        let key: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        let plain = (0..<37).map { UInt8($0 * 7 & 0xFF) }
        let expected = plain.enumerated().map { $1 ^ key[($0 + offset) % 4] }
        var bytes = plain
        let next = bytes.withUnsafeMutableBytes {
            Masking.unmask($0, key: Masking.key(key[0], key[1], key[2], key[3]), offset: offset)
        }
        #expect(bytes == expected)
        #expect(next == (offset + 37) % 4)
    }
}

@Suite struct CloseCodeTests {
    @Test(arguments: [UInt16(1000), 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999])
    func codesAllowedOnTheWire(code: UInt16) {
        #expect(CloseCode(code).isValidOnWire)
        var r = serverReader()
        let payload = [UInt8(code >> 8), UInt8(code & 0xFF)] + Array("bye".utf8)
        #expect(read(clientFrame(.close, payload), reader: &r).seen == [.close(code, "bye")])
    }

    @Test(arguments: [UInt16(0), 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535])
    func reservedCodesCloseWith1002(code: UInt16) {
        #expect(!CloseCode(code).isValidOnWire)
        var r = serverReader()
        let (_, error) = read(clientFrame(.close, [UInt8(code >> 8), UInt8(code & 0xFF)]), reader: &r)
        #expect(error == .invalidCloseCode(code))
        #expect(error?.closeCode == .protocolError)
    }

    @Test func closeWithOneBytePayloadClosesWith1002() {
        var r = serverReader()
        #expect(read(clientFrame(.close, [0x03]), reader: &r).error == .closePayloadTooShort)
    }

    @Test func closeReasonMustBeUTF8() {
        var r = serverReader()
        #expect(read(clientFrame(.close, [0x03, 0xE8, 0xFF]), reader: &r).error == .invalidUTF8)
    }

    @Test func emptyCloseHasNoCode() {
        var r = serverReader()
        #expect(read(clientFrame(.close, []), reader: &r).seen == [.close(nil, "")])
    }

    @Test func closePayloadIsCutAt123BytesOnACodePointBoundary() {
        let payload = FrameEncoder.closePayload(code: .normal, reason: String(repeating: "é", count: 100))
        #expect(payload.count == 2 + 122)
        #expect(Array(payload[2...]).withUnsafeBytes { UTF8Validator.isValid($0) })
    }
}
