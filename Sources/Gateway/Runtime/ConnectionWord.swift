import Presence

/// Where one `/ws` connection stands, packed into the transport's one handler word per
/// connection (`EventLoop.handlerWord`): the loop keeps no table of its own. Everything
/// else about a signed-in session (its user, resume secret, device token row) lives in
/// the presence core's session table, reached through the session ID.
///
/// Layout: bits 60–63 the phase, 56–59 a detail (the device kind of a user session, the
/// method of a sign-in in progress), 0–55 the session ID.
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
    static func user(_ session: SessionID, device: Presence.DeviceKind) -> ConnectionWord {
        ConnectionWord(.user, detail: UInt64(device.rawValue), session: session)
    }
    static func subscriber(_ session: SessionID) -> ConnectionWord { ConnectionWord(.subscriber, session: session) }

    var phase: Phase { Phase(rawValue: raw >> 60) ?? .none }
    var session: SessionID { SessionID(raw & Self.sessionMask) }
    var device: Presence.DeviceKind { Presence.DeviceKind(rawValue: UInt8(raw >> 56 & 0xF)) ?? .desktop }
    var method: SignInMethod { SignInMethod(rawValue: Int(raw >> 56 & 0xF)) ?? .password }
}
