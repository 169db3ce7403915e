import Accounts
import Presence

/// One decoded client message: the request `id` every reply echoes, and the op.
public struct ClientRequest: Equatable, Sendable {
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

/// Every operation of `presence.v1`, validated. The doc comment of each case names what
/// the runtime does with it; `presenceCommand(for:newCall:)` builds the core commands.
public enum ClientOp: Equatable, Sendable {
    /// Sign in (first op of a connection). Accounts `signIn…`, then `Command.signIn` or
    /// `Command.signInSubscriber`. Reply: `SignInReply`.
    case signIn(SignInCredential)
    /// Take over a session after a reconnect: `Command.resume`. Reply: `ResumeReply`, then
    /// the missed events.
    case resume(resumeToken: String, lastSeq: UInt64)
    /// Log out: `Command.signOut`, and Accounts `logOut(deviceToken:)` for the device token
    /// this session signed in with. Reply `ok`, then close 4000.
    case logOut
    /// `Command.setStatus`.
    case setStatus(ChosenStatus)
    /// The user touched the device: `Command.activity`.
    case activity
    /// Keep-alive and acknowledgement of events up to `lastSeq`: `Command.heartbeat`.
    case heartbeat(lastSeq: UInt64)
    /// `Command.requestContact`.
    case requestContact(UserID)
    /// `Command.acceptContact`.
    case acceptContact(UserID)
    /// `Command.declineContact`.
    case declineContact(UserID)
    /// `Command.removeContact`.
    case removeContact(UserID)
    /// `Command.send`. Reply `ok` when the core takes it; the durable ack is the
    /// `chatAccepted` event (or `chatFailed`).
    case send(to: UserID, clientMessageID: String, body: String)
    /// Storage `MessageStore.history`, after checking that `with` is a contact. Reply:
    /// `HistoryReply`.
    case history(with: UserID, before: MessageID?, limit: Int)
    /// `Command.invite` with a call ID the runtime picks. Reply `ok` with `call`.
    /// `payload` is the compact JSON text of the client's payload, or "" for none.
    case invite(to: UserID, payload: String)
    /// `Command.ringing`.
    case ringing(CallID)
    /// `Command.accept`; `payload` as for `invite`.
    case accept(CallID, payload: String)
    /// `Command.decline`.
    case decline(CallID)
    /// `Command.cancel`.
    case cancel(CallID)
    /// `Command.hangUp`.
    case hangUp(CallID)
    /// `Command.signal`; `payload` is never "".
    case signal(CallID, payload: String)
    /// `Command.subscribe` (subscriber sessions only).
    case subscribe([UserID])
    /// `Command.unsubscribe` (subscriber sessions only).
    case unsubscribe([UserID])
    /// Accounts `updateProfile`, then `Command.changeProfile`. Reply `ok` with the new
    /// profile, then close 4003 on every session of the user.
    case updateProfile(ProfileChanges)
    /// Accounts `changePassword` (keeping this session's device token). Reply `ok`; the
    /// user's other sessions close with 4003.
    case changePassword(currentPassword: String, newPassword: String)
    /// Verify `password`, then Accounts `deleteAccount` and `Command.deleteAccount`. Reply
    /// `ok`, then close 4004.
    case deleteAccount(password: String)
    // `changeEmail` has no case: the decoder itself refuses it with `email_cannot_change`.

    /// The op's name on the wire.
    public var name: String {
        switch self {
        case .signIn: "signIn"
        case .resume: "resume"
        case .logOut: "logOut"
        case .setStatus: "setStatus"
        case .activity: "activity"
        case .heartbeat: "heartbeat"
        case .requestContact: "requestContact"
        case .acceptContact: "acceptContact"
        case .declineContact: "declineContact"
        case .removeContact: "removeContact"
        case .send: "send"
        case .history: "history"
        case .invite: "invite"
        case .ringing: "ringing"
        case .accept: "accept"
        case .decline: "decline"
        case .cancel: "cancel"
        case .hangUp: "hangUp"
        case .signal: "signal"
        case .subscribe: "subscribe"
        case .unsubscribe: "unsubscribe"
        case .updateProfile: "updateProfile"
        case .changePassword: "changePassword"
        case .deleteAccount: "deleteAccount"
        }
    }

    /// Whether the op needs a signed-in session; the others (`signIn`, `resume`) need a
    /// connection without one. Anything else before sign-in gets `not_signed_in`.
    public var requiresSession: Bool {
        switch self {
        case .signIn, .resume: false
        default: true
        }
    }

    /// The core command for ops that map one to one onto one. `nil` for ops the runtime
    /// handles through Accounts or Storage first (sign-in, resume, history, profile and
    /// password changes, deletion), and for `invite` without `newCall`.
    /// - Parameters:
    ///   - session: the connection's session.
    ///   - newCall: the ID the runtime assigned to an `invite`.
    public func presenceCommand(for session: SessionID, newCall: CallID? = nil) -> Command? {
        switch self {
        case .logOut: .signOut(session)
        case .setStatus(let status): .setStatus(session, status)
        case .activity: .activity(session)
        case .heartbeat(let lastSeq): .heartbeat(session, lastSeenSequence: lastSeq)
        case .requestContact(let user): .requestContact(session, user)
        case .acceptContact(let user): .acceptContact(session, user)
        case .declineContact(let user): .declineContact(session, user)
        case .removeContact(let user): .removeContact(session, user)
        case .send(let to, let clientMessageID, let body):
            .send(session, to: to, clientMessageID: clientMessageID, body: body)
        case .invite(let to, let payload): newCall.map { .invite(session, callee: to, call: $0, payload: payload) }
        case .ringing(let call): .ringing(session, call)
        case .accept(let call, let payload): .accept(session, call, payload: payload)
        case .decline(let call): .decline(session, call)
        case .cancel(let call): .cancel(session, call)
        case .hangUp(let call): .hangUp(session, call)
        case .signal(let call, let payload): .signal(session, call, payload: payload)
        case .subscribe(let users): .subscribe(session, users)
        case .unsubscribe(let users): .unsubscribe(session, users)
        case .signIn, .resume, .history, .updateProfile, .changePassword, .deleteAccount: nil
        }
    }
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
