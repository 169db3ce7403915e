import Cluster
import Testing

@Suite struct LinkBatchTests {
    @Test func framesOfEverySizeSurviveARoundTripInOrder() throws {
        let frames: [[UInt8]] = [[], [7], Array(repeating: 0xAB, count: 100), (0..<65_536).map { UInt8(truncatingIfNeeded: $0) }, []]
        let bytes = LinkBatch.encode(sender: NodeID(42), firstSequence: 1 << 40, frames: frames, frameBytes: frames.reduce(0) { $0 + $1.count })
        #expect(bytes.count == LinkBatch.encodedSize(frameBytes: 100 + 1 + 65_536, frameCount: 5))
        let batch = try LinkBatch.decode(bytes)
        #expect(batch.sender == NodeID(42))
        #expect(batch.firstSequence == 1 << 40)
        #expect(batch.frames.map { Array($0) } == frames)
    }

    @Test func theHeaderIsLaidOutAsProtocolClusterMdSays() {
        let bytes = LinkBatch.encode(sender: NodeID(0x0102_0304), firstSequence: 0x1112_1314_1516_1718, frames: [[0xEE, 0xFF]], frameBytes: 2)
        #expect(bytes == [1, 1, 2, 3, 4, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0, 0, 0, 1, 0, 0, 0, 2, 0xEE, 0xFF])
    }

    @Test func anEmptyBatchIsASyncNotice() throws {
        let batch = try LinkBatch.decode(LinkBatch.encode(sender: NodeID(3), firstSequence: 17, frames: [], frameBytes: 0))
        #expect(batch == LinkBatch(sender: NodeID(3), firstSequence: 17, frames: []))
    }

    @Test func malformedBatchesAreRefusedWithTheirReason() {
        let good = LinkBatch.encode(sender: NodeID(9), firstSequence: 1, frames: [[1, 2, 3]], frameBytes: 3)
        // Positive control: the unaltered batch decodes.
        #expect((try? LinkBatch.decode(good)) != nil)
        for cut in [0, 4, 16, 20, good.count - 1] {
            #expect(throws: LinkBatch.DecodingError.truncated) { try LinkBatch.decode(Array(good.prefix(cut))) }
        }
        #expect(throws: LinkBatch.DecodingError.truncated) { try LinkBatch.decode(good + [0]) }
        var lyingCount = good
        lyingCount[13...16] = [0xFF, 0xFF, 0xFF, 0xFF]
        #expect(throws: LinkBatch.DecodingError.truncated) { try LinkBatch.decode(lyingCount) }
        var future = good
        future[0] = 2
        #expect(throws: LinkBatch.DecodingError.unknownVersion(2, sender: NodeID(9))) { try LinkBatch.decode(future) }
        var noSender = good
        noSender[1...4] = [0, 0, 0, 0]
        #expect(throws: LinkBatch.DecodingError.noSender) { try LinkBatch.decode(noSender) }
    }
}

@Suite struct InboundSequenceTests {
    /// (first, count) batches in arrival order → (duplicates, isGap) each, and the number
    /// expected next at the end.
    @Test(arguments: [
        // In order from 1, empty notices included: never a gap.
        ([(1, 3), (4, 0), (4, 2), (6, 0)], [(0, false), (0, false), (0, false), (0, false)], 6),
        // A sender never heard from starts at 1; a first batch at 5 means 1-4 were lost.
        ([(5, 2)], [(0, true)], 7),
        // A jump mid-stream, then order again.
        ([(1, 2), (10, 1), (11, 1)], [(0, false), (0, true), (0, false)], 12),
        // A notice that skips numbers is a gap too (the sender dropped frames).
        ([(1, 2), (6, 0), (6, 1)], [(0, false), (0, true), (0, false)], 7),
        // Duplicates: a batch wholly seen, then one overlapping the expected number.
        ([(1, 4), (2, 2), (3, 4)], [(0, false), (2, false), (2, false)], 7),
    ] as [([(UInt64, Int)], [(Int, Bool)], UInt64)])
    func batchesAreJudgedAgainstTheExpectedNumber(batches: [(UInt64, Int)], verdicts: [(Int, Bool)], expectedNext: UInt64) {
        var sequence = InboundSequence()
        for (batch, verdict) in zip(batches, verdicts) {
            let admission = sequence.admit(first: batch.0, count: batch.1)
            #expect(admission.duplicates == verdict.0, "batch \(batch)")
            #expect(admission.isGap == verdict.1, "batch \(batch)")
        }
        #expect(sequence.expected == expectedNext)
    }

    @Test func afterTheInboxWasCutOffTheNextJumpIsNotReportedTwice() {
        var sequence = InboundSequence()
        _ = sequence.admit(first: 1, count: 5)
        sequence.inboxWasCutOff()
        // The outage's jump was reported when the inbox came back: re-baseline quietly.
        #expect(sequence.admit(first: 40, count: 2) == .init(duplicates: 0, isGap: false))
        // Positive control: a later jump is a new gap.
        #expect(sequence.admit(first: 50, count: 1) == .init(duplicates: 0, isGap: true))
        #expect(sequence.expected == 51)
    }
}
