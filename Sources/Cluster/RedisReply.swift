import CHiredis

/// One reply from Redis (RESP2), copied out of hiredis's reply object.
public enum RedisReply: Equatable, Sendable {
    /// A bulk string: binary-safe bytes.
    case bulk([UInt8])
    /// A simple status string, such as `OK` or `QUEUED`.
    case status(String)
    /// An integer.
    case integer(Int64)
    /// An array of replies (nested arrays included).
    case array([RedisReply])
    /// The nil bulk string or nil array: no such key, a timed-out `BLPOP`, and so on.
    case null
    /// An error reply, such as `ERR unknown command` or `WRONGTYPE ...`. Redis refused the
    /// command; the connection is fine.
    case error(String)

    /// Copies a hiredis reply (which hiredis frees after the callback returns).
    init(_ reply: UnsafePointer<redisReply>) {
        let r = reply.pointee
        switch r.type {
        case REDIS_REPLY_STRING:
            self = .bulk(r.len > 0 ? Array(UnsafeRawBufferPointer(start: r.str, count: Int(r.len))) : [])
        case REDIS_REPLY_STATUS:
            self = .status(Self.text(r))
        case REDIS_REPLY_ERROR:
            self = .error(Self.text(r))
        case REDIS_REPLY_INTEGER:
            self = .integer(Int64(r.integer))
        case REDIS_REPLY_ARRAY:
            var elements: [RedisReply] = []
            elements.reserveCapacity(Int(r.elements))
            for i in 0..<Int(r.elements) {
                if let e = r.element[i] { elements.append(RedisReply(e)) } else { elements.append(.null) }
            }
            self = .array(elements)
        default:
            self = .null  // REDIS_REPLY_NIL
        }
    }

    private static func text(_ r: redisReply) -> String {
        guard r.len > 0, let str = r.str else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: str, count: Int(r.len)), as: UTF8.self)
    }

    /// The text of a bulk or status reply (bulk bytes decoded as UTF-8), else `nil`.
    public var string: String? {
        switch self {
        case .bulk(let bytes): String(decoding: bytes, as: UTF8.self)
        case .status(let s): s
        default: nil
        }
    }

    /// The value of an integer reply, else `nil`.
    public var integer: Int64? {
        if case .integer(let n) = self { return n }
        return nil
    }

    /// The elements of an array reply, else `nil`.
    public var elements: [RedisReply]? {
        if case .array(let a) = self { return a }
        return nil
    }
}
