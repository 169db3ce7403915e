import Presence
import Transport

/// Where one `/ws` connection stands, packed into the transport's one handler word per
/// connection (`EventLoop.handlerWord`): the loop keeps no table of its own. Everything
/// else about a signed-in session (its user, resume secret, device token row) lives in
/// the presence core's session table, reached through the session ID.
///
/// Layout: bits 60–63 the phase, 56–59 a detail (the device kind of a user session in bits
/// 56–58, the method of a sign-in in progress), 0–55 the session ID. A signed-in word keeps
/// in bit 59 the parity of the presence epoch that signed it in (`PresenceEpoch.serial`),
/// so a cluster's re-placement closes exactly the old epoch's connections.
struct ConnectionWord: Equatable {
    enum Phase: UInt64 {
        /// Not a presence connection (`/echo`), or never set.
        case none = 0
        /// Connected; must sign in before its sign-in deadline.
        case awaitingSignIn = 1
        /// A sign-in or resume is being checked on another thread.
        case signingIn = 2
        /// Signed in as a user.
        case user = 3
        /// Signed in as a watch-only subscriber.
        case subscriber = 4
    }

    var raw: UInt64

    init(_ raw: UInt64) { self.raw = raw }

    init(_ phase: Phase, detail: UInt64 = 0, session: SessionID? = nil) {
        raw = phase.rawValue << 60 | (detail & 0xF) << 56 | (session?.rawValue ?? 0) & Self.sessionMask
    }

    static let sessionMask: UInt64 = (1 << 56) - 1
    static let awaitingSignIn = ConnectionWord(.awaitingSignIn)

    static func signingIn(_ method: SignInMethod) -> ConnectionWord { ConnectionWord(.signingIn, detail: UInt64(method.rawValue)) }
    static func user(_ session: SessionID, device: Presence.DeviceKind, epochParity: UInt64 = 0) -> ConnectionWord {
        ConnectionWord(.user, detail: UInt64(device.rawValue) | (epochParity & 1) << 3, session: session)
    }
    static func subscriber(_ session: SessionID, epochParity: UInt64 = 0) -> ConnectionWord {
        ConnectionWord(.subscriber, detail: (epochParity & 1) << 3, session: session)
    }

    var phase: Phase { Phase(rawValue: raw >> 60) ?? .none }
    var session: SessionID { SessionID(raw & Self.sessionMask) }
    var device: Presence.DeviceKind { Presence.DeviceKind(rawValue: UInt8(raw >> 56 & 0x7)) ?? .desktop }
    /// The parity of the epoch that signed the connection in (user and subscriber words).
    var epochParity: UInt64 { raw >> 59 & 1 }
    var method: SignInMethod { SignInMethod(rawValue: Int(raw >> 56 & 0xF)) ?? .password }
}

/// A connection that another node (its edge) holds, as its home names it: a
/// `ConnectionID` whose loop number is 128 or more, which no local loop has (`--loops` is
/// at most 127 in a cluster). Loop 128 + *s* is the edge in slot *s* of the presence epoch
/// (`PresenceEpoch.members`); the edge's own connection rides in the other fields: its loop
/// in the top byte of `fd` and its descriptor in the low 24 bits, its generation as it is.
/// `GatewayRuntime`'s sends route such an ID over the node link (`EdgeMessage`). The core
/// keeps it in `SessionAttachment.connection` like any other and never reads it.
enum RemoteConnection {
    static let firstLoop = 128

    /// The home's ID of the edge connection `edge` (packed) of the node in slot `slot`;
    /// nil if it does not fit (an edge loop above 127 or a descriptor above 2^24).
    static func id(slot: Int, edge: UInt64) -> ConnectionID? {
        guard slot >= 0, slot < 128, let e = ConnectionID(packed: edge), e.loop < 128, e.fd >= 0, e.fd < 1 << 24 else { return nil }
        return ConnectionID(loop: firstLoop + slot, fd: Int32(e.loop) << 24 | e.fd, generation: e.generation)
    }

    /// The slot and the edge's packed connection of a remote ID; nil for a local one.
    static func parse(_ id: ConnectionID) -> (slot: Int, edge: UInt64)? {
        guard id.loop >= firstLoop else { return nil }
        let edge = ConnectionID(loop: Int(id.fd >> 24), fd: id.fd & 0xFF_FFFF, generation: id.generation)
        return (id.loop - firstLoop, edge.packed)
    }
}
