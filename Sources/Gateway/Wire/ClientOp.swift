import Accounts
import Presence

/// One decoded client message: the request `id` every reply echoes, and the op.
public struct ClientRequest: Sendable {
    /// The client's request ID (1 to 64 bytes), echoed in the one reply.
    public var id: String
    /// What the client asks for.
    public var op: ClientOp

    /// Creates a request.
    public init(id: String, op: ClientOp) {
        self.id = id
        self.op = op
    }
}

/// Every operation of `presence.v1`, validated. An op that is one core command decodes
/// straight into that `Command`, so the wire layer keeps no second list of them; only the
/// ops the core does not carry out by itself have cases of their own.
public enum ClientOp: Sendable {
    /// Sign in (first op of a connection). Accounts `signIn…`, then `Command.signIn` or
    /// `Command.signInSubscriber`. Reply: `SignInReply`.
    case signIn(SignInCredential)
    /// Take over a session after a reconnect: `Command.resume`. Reply: `ResumeReply`, then
    /// the missed events.
    case resume(resumeToken: String, lastSeq: UInt64)
    /// The core command the op is, from the session the decoder was given. Reply `ok` when
    /// the core takes it, except:
    /// - `send`: the reply waits for the commit (the `chatAccepted` event follows it);
    /// - `invite` names `ClientOp.unassignedCall`; the runtime assigns the call as it
    ///   dispatches the op, and the reply names it;
    /// - `logOut` is `Command.signOut`; the runtime also revokes the device token the
    ///   session signed in with, and the reply `ok` is followed by close 4000.
    case command(Command)
    /// A signed-in user's op that the runtime carries out through Accounts or storage.
    case account(AccountOp)
    // `changeEmail` has no case: the decoder itself refuses it with `email_cannot_change`.

    /// The call an `invite` names until the runtime assigns one. No client can name it:
    /// `call` is at least 1 on the wire.
    public static let unassignedCall = CallID(0)

    /// Whether the op needs a signed-in session; the others (`signIn`, `resume`) need a
    /// connection without one. Anything else before sign-in gets `not_signed_in`.
    public var requiresSession: Bool {
        switch self {
        case .signIn, .resume: false
        case .command, .account: true
        }
    }
}

/// The ops of a signed-in user that are no core command: the runtime runs them on an
/// account worker, with the user the presence thread finds behind the session, and some
/// end in a command (`changeProfile`, `deleteAccount`) posted after the reply.
public enum AccountOp: Equatable, Sendable {
    /// Storage `MessageStore.history`, after checking that `with` is a contact. Reply:
    /// `HistoryReply`.
    case history(with: UserID, before: MessageID?, limit: Int)
    /// Accounts `updateProfile`, then `Command.changeProfile`. Reply `ok` with the new
    /// profile, then close 4003 on every session of the user.
    case updateProfile(ProfileChanges)
    /// Accounts `changePassword` (keeping this session's device token). Reply `ok`; the
    /// user's other sessions close with 4003.
    case changePassword(currentPassword: String, newPassword: String)
    /// Verify `password`, then Accounts `deleteAccount` and `Command.deleteAccount`. Reply
    /// `ok`, then close 4004.
    case deleteAccount(password: String)
}

/// The four forms of `signIn`.
public enum SignInCredential: Equatable, Sendable {
    /// `method: "password"`: Accounts `signIn(email:password:device:staySignedIn:…)`. The
    /// e-mail is passed as typed; the account service normalizes it.
    case password(email: String, password: String, device: Presence.DeviceKind, staySignedIn: Bool)
    /// `method: "token"`: Accounts `signIn(deviceToken:…)`. The token's stored device kind
    /// is authoritative; `device`, if sent, is only a hint for logs.
    case deviceToken(String, device: Presence.DeviceKind?)
    /// `method: "google"`: Accounts `signIn(googleIDToken:device:staySignedIn:…)`.
    case google(idToken: String, device: Presence.DeviceKind, staySignedIn: Bool)
    /// `method: "subscriber"`: a watch-only dashboard with a key from the server's
    /// configuration, which also lists the users that key may watch.
    case subscriber(key: String)
}

/// The profile fields `updateProfile` may change; `nil` leaves a field as it is.
public struct ProfileChanges: Equatable, Sendable {
    public var firstName: String?
    public var lastName: String?
    /// The "offline e-mail notification" flag.
    public var offlineEmail: Bool?

    /// Creates a change set.
    public init(firstName: String? = nil, lastName: String? = nil, offlineEmail: Bool? = nil) {
        self.firstName = firstName
        self.lastName = lastName
        self.offlineEmail = offlineEmail
    }

    /// The account service's form of the edit.
    public var profileEdit: ProfileEdit {
        ProfileEdit(firstName: firstName, lastName: lastName, wantsOfflineEmail: offlineEmail)
    }
}
