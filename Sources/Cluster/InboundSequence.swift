/// What a receiver knows of one sender's numbering: the sequence number it expects next.
/// It decides, per batch, which frames are new and whether some were lost before them.
///
/// - Frames are numbered from 1 by each sender for each receiver, and node ids are never
///   reused, so a sender never heard from is expected to start at 1: a first batch that
///   starts later means the frames before it were lost (published before we listened,
///   or while we were cut off).
/// - After our own inbox was cut off (and that gap already reported for every known
///   sender), the next batch from each known sender is taken as the new baseline: its
///   jump is the outage's, already reported.
/// - Frames numbered below the expected one are duplicates and skipped. Redis pub/sub
///   does not duplicate, and the link never retries, so this guards against a future
///   transport or a bug, not a normal event.
///
/// Pure and tiny: one per sender, kept on the link's loop.
public struct InboundSequence: Equatable, Sendable {
    /// The sequence number of the next frame expected.
    public private(set) var expected: UInt64 = 1
    /// A gap was reported for this sender without a batch to measure it: the next batch
    /// re-baselines without another report.
    public private(set) var isResynchronising = false

    public init() {}

    /// The verdict on one batch.
    public struct Admission: Equatable, Sendable {
        /// Frames at the front of the batch already seen (skip them).
        public var duplicates: Int
        /// Frames were lost before this batch (report a gap).
        public var isGap: Bool

        public init(duplicates: Int, isGap: Bool) {
            self.duplicates = duplicates
            self.isGap = isGap
        }
    }

    /// Admits a batch of `count` frames numbered from `first`.
    public mutating func admit(first: UInt64, count: Int) -> Admission {
        defer { isResynchronising = false }
        let end = first &+ UInt64(count)
        if first > expected {
            let wasReported = isResynchronising
            expected = end
            return Admission(duplicates: 0, isGap: !wasReported)
        }
        let duplicates = Int(min(UInt64(count), expected - first))
        expected = max(expected, end)
        return Admission(duplicates: duplicates, isGap: false)
    }

    /// Our inbox was cut off: frames from this sender may have been lost, and the caller
    /// reports that now; the next batch re-baselines.
    public mutating func inboxWasCutOff() {
        isResynchronising = true
    }
}
