/// A close status code (RFC 6455 §7.4) as sent or received in a Close frame.
public struct CloseCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    /// 1000: the purpose of the connection is fulfilled.
    public static let normal = CloseCode(1000)
    /// 1001: the server is going away (shutdown, drain). Clients reconnect, with jitter.
    public static let goingAway = CloseCode(1001)
    /// 1002: the peer broke RFC 6455.
    public static let protocolError = CloseCode(1002)
    /// 1003: a data type the endpoint cannot accept.
    public static let unsupportedData = CloseCode(1003)
    /// 1005: no status code was present (never sent on the wire).
    public static let noStatus = CloseCode(1005)
    /// 1006: the connection dropped without a Close frame (never sent on the wire).
    public static let abnormal = CloseCode(1006)
    /// 1007: a text message was not valid UTF-8, or inflated data was corrupt.
    public static let invalidPayload = CloseCode(1007)
    /// 1008: the peer violated a policy of this server.
    public static let policyViolation = CloseCode(1008)
    /// 1009: a frame or message exceeded the configured size limit.
    public static let messageTooBig = CloseCode(1009)
    /// 1010: the client required an extension the server did not negotiate.
    public static let mandatoryExtension = CloseCode(1010)
    /// 1011: the server hit an unexpected condition.
    public static let internalError = CloseCode(1011)
    /// 1012: the server is restarting.
    public static let serviceRestart = CloseCode(1012)
    /// 1013: try again later (used for a consumer too slow to keep up).
    public static let tryAgainLater = CloseCode(1013)

    /// Whether a peer may send this code in a Close frame (RFC 6455 §7.4.1, §7.4.2 and the
    /// IANA registry): 1000-1003, 1007-1011 (and the registered 1012-1014), and 3000-4999.
    /// 1004, 1005, 1006 and 1015 are reserved and never appear on the wire.
    public var isValidOnWire: Bool {
        switch rawValue {
        case 1000...1003, 1007...1014: return true
        case 3000...4999: return true
        default: return false
        }
    }

    public var description: String { String(rawValue) }
}
