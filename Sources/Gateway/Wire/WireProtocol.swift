import Presence

/// Fixed facts of the `presence.v1` protocol, named once.
public enum WireProtocol {
    /// The WebSocket subprotocol a client must offer (`Sec-WebSocket-Protocol`).
    public static let subprotocol = "presence.v1"
    /// The WebSocket route.
    public static let route = "/ws"
    /// The largest message on `/ws` after reassembly and inflation; larger closes with 1009.
    public static let maxMessageBytes = 64 * 1024
}

/// The bounds the decoder enforces on client values. Every number is documented in
/// `Protocol/README.md` ("Limits"); an oversized value gets `value_too_long`, never a close.
public struct WireLimits: Hashable, Sendable {
    /// The client's request `id`, in UTF-8 bytes.
    public var requestIDBytes = 64
    /// A chat body, in UTF-8 bytes. Matches `PresenceConfiguration.maxMessageBytes`.
    public var bodyBytes = 16 * 1024
    /// A `clientMessageId`, in UTF-8 bytes.
    public var clientMessageIDBytes = 64
    /// An e-mail address (RFC 5321 path limit).
    public var emailBytes = 254
    /// A first or last name, in UTF-8 bytes; the account service then allows at most 100
    /// characters (`invalid_name`).
    public var nameBytes = 400
    /// A password as typed (the policy's own maximum is 128 characters).
    public var passwordBytes = 1024
    /// A device token, a subscriber key or a resume token.
    public var tokenBytes = 256
    /// A Google ID token (a JWT).
    public var idTokenBytes = 8 * 1024
    /// A call payload, in bytes of its compact JSON text.
    public var payloadBytes = 32 * 1024
    /// Users named in one `subscribe` or `unsubscribe`.
    public var usersPerSubscribe = 500
    /// The page size of `history` when the client names none, and the largest it may name.
    public var defaultHistoryLimit = 50
    public var maxHistoryLimit = 100

    /// The documented defaults.
    public init() {}
}

/// The largest integer every JSON reader holds exactly (2^53 - 1, an IEEE double's
/// mantissa). Sequences and IDs on the wire never exceed it.
let largestExactInteger: UInt64 = 9_007_199_254_740_991

// MARK: - Enum names on the wire

extension ChosenStatus {
    /// The wire name: `online`, `busy`, `hidden`.
    public var wireName: String {
        switch self {
        case .online: "online"
        case .busy: "busy"
        case .hidden: "hidden"
        }
    }

    init?(wireName: String) {
        guard let status = Self.allCases.first(where: { $0.wireName == wireName }) else { return nil }
        self = status
    }
}

extension PresenceStatus {
    /// The wire name: `offline`, `idle`, `mobile`, `online`, `busy`.
    public var wireName: String {
        switch self {
        case .offline: "offline"
        case .idle: "idle"
        case .mobile: "mobile"
        case .online: "online"
        case .busy: "busy"
        }
    }
}

extension Presence.DeviceKind {
    /// The wire name: `desktop`, `mobile`, `web`.
    public var wireName: String {
        switch self {
        case .desktop: "desktop"
        case .mobile: "mobile"
        case .web: "web"
        }
    }

    init?(wireName: String) {
        guard let kind = Self.allCases.first(where: { $0.wireName == wireName }) else { return nil }
        self = kind
    }
}

extension CallEndReason {
    /// The wire name: `declined`, `cancelled`, `noAnswer`, `busy`, `hungUp`, `connectionLost`,
    /// `contactRemoved`.
    public var wireName: String {
        switch self {
        case .declined: "declined"
        case .cancelled: "cancelled"
        case .noAnswer: "noAnswer"
        case .busy: "busy"
        case .hungUp: "hungUp"
        case .connectionLost: "connectionLost"
        case .contactRemoved: "contactRemoved"
        }
    }
}

extension DeliveryReceipt {
    /// The wire name: `delivered`, `stored`.
    public var wireName: String {
        switch self {
        case .delivered: "delivered"
        case .stored: "stored"
        }
    }
}
