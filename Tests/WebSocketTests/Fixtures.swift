import WebSocket

/// A masked client frame, as a browser would send it.
func clientFrame(_ opcode: Opcode, _ payload: [UInt8], fin: Bool = true, rsv1: Bool = false,
                 key: UInt32 = Masking.key(0x37, 0xFA, 0x21, 0x3D)) -> [UInt8] {
    var out: [UInt8] = []
    payload.withUnsafeBytes {
        FrameEncoder.append(opcode: opcode, isFinal: fin, isCompressed: rsv1, payload: $0, maskKey: key, to: &out)
    }
    return out
}

/// What a reader reported, with payloads copied out of the borrowed buffers.
enum Seen: Equatable {
    case text(String)
    case binary([UInt8])
    case ping([UInt8])
    case pong([UInt8])
    case close(UInt16?, String)
}

/// Feeds `bytes` to a server-side reader in chunks of `chunk` bytes (the split a socket
/// might make) and collects what it reports, or the error it throws.
func read(_ bytes: [UInt8], chunk: Int = .max, reader: inout MessageReader) -> (seen: [Seen], error: ProtocolError?) {
    var seen: [Seen] = []
    var start = 0
    while start < bytes.count {
        var piece = Array(bytes[start..<min(bytes.count, start + max(1, min(chunk, bytes.count)))])
        start += piece.count
        do {
            try piece.withUnsafeMutableBytes { raw in
                try reader.read(raw) { event in
                    switch event {
                    case .text(let p): seen.append(.text(String(decoding: p, as: UTF8.self)))
                    case .binary(let p): seen.append(.binary(Array(p)))
                    case .ping(let p): seen.append(.ping(Array(p)))
                    case .pong(let p): seen.append(.pong(Array(p)))
                    case .close(let c, let r): seen.append(.close(c?.rawValue, String(decoding: r, as: UTF8.self)))
                    }
                    return true
                }
            }
        } catch let e as ProtocolError {
            return (seen, e)
        } catch {
            fatalError("unexpected \(error)")
        }
    }
    return (seen, nil)
}

func serverReader(maxFrame: Int = 1 << 20, maxMessage: Int = 1 << 20, inflation: MessageReader.Inflation = .none) -> MessageReader {
    MessageReader(role: .server, maxFrameSize: maxFrame, maxMessageSize: maxMessage, inflation: inflation)
}
