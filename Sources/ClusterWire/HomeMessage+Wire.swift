import Presence

// A `HomeMessage` (edge → home): a tag, then the case's fields in declaration order
// (Protocol/cluster.md, "Edge and home messages on the wire").

extension Array where Element == UInt8 {
    /// Appends the message, or throws `commandNotForwarded` having appended nothing.
    mutating func appendHomeMessage(_ message: HomeMessage) throws(ClusterWireError) {
        switch message {
        case .op(let edgeNode, let connection, let requestID, let command):
            let start = count
            append(HomeMessageTag.op.rawValue)
            appendFixed64(edgeNode)
            appendFixed64(connection)
            if let requestID {
                append(1)
                appendString(requestID)
            } else {
                append(0)
            }
            do throws(ClusterWireError) {
                try appendCommand(command)
            } catch {
                removeSubrange(start...)
                throw error
            }
        }
    }
}

extension WireReader {
    mutating func homeMessage() throws(ClusterWireError) -> HomeMessage {
        let at = offset
        let raw = try byte()
        guard let tag = HomeMessageTag(rawValue: raw) else { throw .unknownMessageTag(raw, offset: at) }
        switch tag {
        case .op:
            let edgeNode = try fixed64()
            let connection = try fixed64()
            let requestID = try isPresent() ? try string() : nil
            return .op(edgeNode: edgeNode, connection: connection, requestID: requestID, command: try command())
        }
    }

    mutating func homeBatch() throws(ClusterWireError) -> HomeBatch {
        let (header, count) = try header(format: ClusterWire.homeBatchFormat, minimumMessageSize: WireSize.homeMessage)
        var messages: [HomeMessage] = []
        messages.reserveCapacity(count)
        for _ in 0..<count { messages.append(try homeMessage()) }
        return HomeBatch(header: header, messages: messages)
    }
}
