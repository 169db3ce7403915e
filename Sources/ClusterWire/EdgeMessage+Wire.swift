import Presence

// An `EdgeMessage` (home → edge): a tag, then the case's fields in declaration order
// (Protocol/cluster.md, "Edge and home messages on the wire").

extension Array where Element == UInt8 {
    mutating func appendEdgeMessage(_ message: EdgeMessage) {
        switch message {
        case .deliver(let body, let recipients):
            append(EdgeMessageTag.deliver.rawValue)
            appendBytes(body)
            appendVarint(UInt64(recipients.count))
            for recipient in recipients {
                appendFixed64(recipient.connection)
                // A session's sequence counts its events from 1: one or two bytes as a
                // varint where a fixed width would spend eight on every recipient.
                appendVarint(recipient.sequence)
            }
        case .reply(let connection, let bytes):
            append(EdgeMessageTag.reply.rawValue)
            appendFixed64(connection)
            appendBytes(bytes)
        case .close(let connection, let code, let reason):
            append(EdgeMessageTag.close.rawValue)
            appendFixed64(connection)
            appendFixed16(code)
            appendString(reason)
        case .attach(let connection, let session, let device):
            append(EdgeMessageTag.attach.rawValue)
            appendFixed64(connection)
            appendFixed64(session.rawValue)
            if let device {
                append(1)
                append(WireValue.byte(for: device))
            } else {
                append(0)
            }
        case .signInRefused(let connection):
            append(EdgeMessageTag.signInRefused.rawValue)
            appendFixed64(connection)
        }
    }
}

extension WireReader {
    mutating func edgeMessage() throws(ClusterWireError) -> EdgeMessage {
        let at = offset
        let raw = try byte()
        guard let tag = EdgeMessageTag(rawValue: raw) else { throw .unknownMessageTag(raw, offset: at) }
        switch tag {
        case .deliver:
            let body = try byteArray()
            let count = try count(minimumSize: WireSize.edgeRecipient)
            var recipients: [EdgeRecipient] = []
            recipients.reserveCapacity(count)
            for _ in 0..<count {
                let connection = try fixed64()
                recipients.append(EdgeRecipient(connection: connection, sequence: try varint()))
            }
            return .deliver(body: body, to: recipients)
        case .reply:
            let connection = try fixed64()
            return .reply(connection: connection, bytes: try byteArray())
        case .close:
            let connection = try fixed64()
            let code = try fixed16()
            return .close(connection: connection, code: code, reason: try string())
        case .attach:
            let connection = try fixed64()
            let session = try sessionID()
            let device = try isPresent() ? try value(WireValue.deviceKind) : nil
            return .attach(connection: connection, session: session, device: device)
        case .signInRefused:
            return .signInRefused(connection: try fixed64())
        }
    }

    mutating func edgeBatch() throws(ClusterWireError) -> EdgeBatch {
        let (header, count) = try header(format: ClusterWire.edgeBatchFormat, minimumMessageSize: WireSize.edgeMessage)
        var messages: [EdgeMessage] = []
        messages.reserveCapacity(count)
        for _ in 0..<count { messages.append(try edgeMessage()) }
        return EdgeBatch(header: header, messages: messages)
    }
}
