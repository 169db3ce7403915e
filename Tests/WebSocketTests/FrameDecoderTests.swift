import Testing
@testable import WebSocket

/// RFC 6455 §5 framing rules, each as bytes in and an event or a close code out.
@Suite struct FrameDecoderTests {
    @Test func maskedTextFrameIsUnmaskedInPlace() {
        var r = serverReader()
        let (seen, error) = read(clientFrame(.text, Array("Hello".utf8)), reader: &r)
        #expect(error == nil)
        #expect(seen == [.text("Hello")])
    }

    @Test(arguments: [1, 2, 3, 7, 13])
    func framesSplitAtAnyByteDecodeTheSame(chunk: Int) {
        var r = serverReader()
        let bytes = clientFrame(.text, Array("split".utf8)) + clientFrame(.binary, Array(repeating: 7, count: 300))
            + clientFrame(.binary, Array(repeating: 9, count: 70_000))
        let (seen, error) = read(bytes, chunk: chunk, reader: &r)
        #expect(error == nil)
        #expect(seen == [.text("split"), .binary(Array(repeating: 7, count: 300)), .binary(Array(repeating: 9, count: 70_000))])
    }

    @Test func unmaskedClientFrameClosesWith1002() {
        var r = serverReader()
        var bytes: [UInt8] = []
        [UInt8(65)].withUnsafeBytes { FrameEncoder.append(opcode: .text, payload: $0, to: &bytes) }
        let (_, error) = read(bytes, reader: &r)
        #expect(error == .unmaskedClientFrame)
        #expect(error?.closeCode == .protocolError)
    }

    @Test func maskedServerFrameIsRejectedByAClient() throws {
        var d = FrameDecoder(role: .client, maxFrameSize: 100)
        var bytes = clientFrame(.text, [65])
        var index = 0
        #expect(throws: ProtocolError.maskedServerFrame) {
            try bytes.withUnsafeMutableBytes { _ = try d.next($0, index: &index) }
        }
    }

    @Test(arguments: [UInt8(0x10), 0x20, 0x40])
    func reservedBitsWithoutAnExtensionCloseWith1002(bit: UInt8) {
        var r = serverReader()
        var bytes = clientFrame(.text, [65])
        bytes[0] |= bit
        #expect(read(bytes, reader: &r).error == .reservedBitsSet)
    }

    @Test func rsv1IsRejectedOnControlFramesEvenWithDeflate() {
        var r = serverReader(inflation: .own(nil))
        #expect(read(clientFrame(.ping, [1], rsv1: true), reader: &r).error == .reservedBitsSet)
    }

    @Test(arguments: [UInt8(3), 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF])
    func reservedOpcodesCloseWith1002(op: UInt8) {
        var r = serverReader()
        var bytes = clientFrame(.text, [65])
        bytes[0] = 0x80 | op
        #expect(read(bytes, reader: &r).error == .unknownOpcode(op))
    }

    @Test func controlFrameLongerThan125BytesClosesWith1002() {
        var r = serverReader()
        #expect(read(clientFrame(.ping, Array(repeating: 1, count: 126)), reader: &r).error == .controlFrameTooLong)
    }

    @Test func fragmentedControlFrameClosesWith1002() {
        var r = serverReader()
        #expect(read(clientFrame(.ping, [1], fin: false), reader: &r).error == .fragmentedControlFrame)
    }

    @Test func controlFramesMayInterleaveAFragmentedMessage() {
        var r = serverReader()
        let bytes = clientFrame(.text, Array("frag".utf8), fin: false) + clientFrame(.ping, [1, 2])
            + clientFrame(.continuation, Array("ment".utf8))
        let (seen, error) = read(bytes, reader: &r)
        #expect(error == nil)
        #expect(seen == [.ping([1, 2]), .text("fragment")])
    }

    @Test func continuationWithoutAMessageClosesWith1002() {
        var r = serverReader()
        #expect(read(clientFrame(.continuation, [1]), reader: &r).error == .unexpectedContinuation)
    }

    @Test func newMessageInsideAFragmentedOneClosesWith1002() {
        var r = serverReader()
        let bytes = clientFrame(.text, [65], fin: false) + clientFrame(.text, [66])
        #expect(read(bytes, reader: &r).error == .expectedContinuation)
    }

    @Test func sixteenBitLengthBelow126IsNotMinimal() {
        var r = serverReader()
        // FIN|text, MASK|126, length 5 in 16 bits, key, payload.
        let bytes: [UInt8] = [0x81, 0xFE, 0x00, 0x05, 0, 0, 0, 0] + Array("Hello".utf8)
        #expect(read(bytes, reader: &r).error == .nonMinimalLength)
    }

    @Test func sixtyFourBitLengthBelow65536IsNotMinimal() {
        var r = serverReader()
        let bytes: [UInt8] = [0x82, 0xFF, 0, 0, 0, 0, 0, 0, 0x01, 0x00, 0, 0, 0, 0]
        #expect(read(bytes, reader: &r).error == .nonMinimalLength)
    }

    @Test func sixtyFourBitLengthWithTheHighBitSetIsRejected() {
        var r = serverReader()
        let bytes: [UInt8] = [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0]
        #expect(read(bytes, reader: &r).error == .nonMinimalLength)
    }

    @Test func frameOverTheLimitClosesWith1009BeforeItsPayloadArrives() {
        var r = serverReader(maxFrame: 1000)
        let header = Array(clientFrame(.binary, Array(repeating: 0, count: 1001)).prefix(8))
        let (_, error) = read(header, reader: &r)
        #expect(error == .frameTooLarge)
        #expect(error?.closeCode == .messageTooBig)
    }

    @Test func messageOverTheLimitAcrossFragmentsClosesWith1009() {
        var r = serverReader(maxFrame: 100, maxMessage: 150)
        let bytes = clientFrame(.binary, Array(repeating: 0, count: 100), fin: false)
            + clientFrame(.continuation, Array(repeating: 0, count: 100))
        #expect(read(bytes, reader: &r).error == .messageTooLarge)
    }

    @Test func emptyFramesAreDelivered() {
        var r = serverReader()
        let (seen, error) = read(clientFrame(.text, []) + clientFrame(.ping, []), reader: &r)
        #expect(error == nil)
        #expect(seen == [.text(""), .ping([])])
    }
}
