import Testing
@testable import Transport

/// The outbound queue's prefetch hint reads an array's count and elements from its storage
/// object at fixed offsets (`OutboundQueue.endAddress(ofBuffer:)`). A wrong address would
/// only make the hint useless, never unsafe; this keeps it from going wrong unnoticed.
struct OutboundQueueTests {
    @Test func theEndAddressIsWhereABuffersNextByteGoes() {
        var queue = OutboundQueue()
        let connections = (0..<3).map { Connection(fd: Int32(-1 - $0), generation: 1, remoteAddress: "127.0.0.1", isTLS: false, now: 0) }
        for (k, conn) in connections.enumerated() {
            let bytes = [UInt8](repeating: UInt8(k), count: 10 + 700 * k)
            bytes.withUnsafeBytes { queue.append($0, to: conn) }
        }
        for (k, conn) in connections.enumerated() {
            let index = Int(conn.queueHead)
            let end = queue.buffers[index].withUnsafeBytes { $0.baseAddress! + $0.count }
            #expect(queue.endAddress(ofBuffer: index) == end)
            #expect(queue.buffers[index].count == 10 + 700 * k)
        }
        queue.reset()
    }
}
