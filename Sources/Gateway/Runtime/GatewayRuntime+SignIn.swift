import Accounts
import Foundation
import Presence
import Storage
import Transport
import WebSocket

// Sign-in as far as accounts and storage take it: the credential checked, then the
// session's stored state loaded in a storage-writer job and handed to the presence thread.

extension GatewayRuntime {
    /// Checks a credential, then loads what the core needs (contacts, chosen status, unread
    /// backlog) in a storage-writer job and hands the session to the presence thread from
    /// there. Called on the event loop: only a password or a Google ID token goes to an
    /// account worker first (scrypt, the key set), since they block.
    ///
    /// The backlog is read by the storage writer, in line with the commits of new messages,
    /// and the session is posted to the presence thread from there. So a message commits
    /// either before the read (it is in the backlog, and its live delivery found no
    /// session) or after it (its `messageCommitted` reaches the presence thread after the
    /// sign-in, and is delivered live): never neither.
    ///
    /// A device-token sign-in (the storm after a restart) goes from the loop straight to
    /// the writer, and does all of its storage work in that one job: finding the device,
    /// rotating its token (through the group commit instead of a transaction and an fsync
    /// of its own; the reply waits for the commit) and the reads. The writer's connection
    /// is the one that writes, so its page cache stays warm, where a worker's connection
    /// loses its cache at every commit of the writer; in a storm that made the workers'
    /// reads the largest cost of a sign-in, and the hop through a worker cost two thread
    /// wake-ups more.
    func signIn(_ credential: SignInCredential, target: ReplyTarget, remoteAddress: String) {
        // The resume secret: 128 bits from the system's CSPRNG (getrandom), kept inline
        // in the session's attachment.
        var rng = SystemRandomNumberGenerator()
        let attachment = SessionAttachment(connection: target.connection.packed, secretHigh: rng.next(), secretLow: rng.next())
        do {
            switch credential {
            case .subscriber(let key):
                guard let subscriber = configuration.subscribers[key] else { throw WireError.invalidSubscriberKey }
                presence.post(.signInSubscriber(allowed: subscriber.allowed, attachment: attachment, target: target,
                                                principal: .subscriber(name: subscriber.name,
                                                                       allowed: subscriber.allowed.sorted { $0.email < $1.email })))
            case .deviceToken(let token, _):
                let pending = try PendingTokenSignIn(deviceToken: token, sourceAddress: remoteAddress, limiter: configuration.signInLimiter,
                                                     graceMilliseconds: configuration.accounts.deviceTokenGraceMilliseconds,
                                                     now: systemMillisecondClock())
                startSession(target) { [self] db in
                    guard let result = try pending.complete(in: db) else {
                        configuration.signInLimiter.record(account: nil, address: remoteAddress)
                        throw AccountsError.invalidDeviceToken
                    }
                    return try sessionStart(result, attachment: attachment, target: target, database: db)
                }
            case .password, .google:
                let isQueued = accounts.offer { [self] worker in
                    signIn(credential, attachment: attachment, target: target, remoteAddress: remoteAddress, worker: worker)
                }
                // A full account queue: the connection may sign in again.
                if !isQueued { signInRefused(target, session: nil, overloadedReply()) }
            }
        } catch {
            signInRefused(target, session: nil, reply(to: error))
        }
    }

    /// The half of a password or Google sign-in that blocks, on an account worker.
    private func signIn(_ credential: SignInCredential, attachment: SessionAttachment, target: ReplyTarget, remoteAddress: String,
                        worker: AccountWorker) {
        do {
            let result: SignInResult
            switch credential {
            case .password(let email, let password, let device, let stay):
                result = try worker.service.signIn(email: email, password: password, device: device.storageKind,
                                                   staySignedIn: stay, sourceAddress: remoteAddress)
            case .google(let idToken, let device, let stay):
                result = try worker.service.signIn(googleIDToken: idToken, device: device.storageKind,
                                                   staySignedIn: stay, sourceAddress: remoteAddress)
            case .subscriber, .deviceToken:
                return  // answered on the loop (see above)
            }
            startSession(target) { [self] db in try sessionStart(result, attachment: attachment, target: target, database: db) }
        } catch {
            signInRefused(target, session: nil, reply(to: error))
        }
    }

    /// A user's sign-in as far as storage takes it: everything but the backlog.
    struct SessionStart: Sendable {
        var request: SignIn
        var target: ReplyTarget
        var principal: SignInReply.Principal
    }

    /// Runs `load` (the sign-in's storage work) and the backlog read in one storage-writer
    /// job, then posts the sign-in to the presence thread from the writer thread, in order
    /// with message commits (see `signIn`). A job that throws undoes only its own changes
    /// (a savepoint) and refuses the sign-in with its error.
    private func startSession(_ target: ReplyTarget, _ load: @escaping @Sendable (Database) throws -> SessionStart) {
        writer.submit({ db -> (SessionStart, [MessageRecord]) in
            let start = try load(db)
            return (start, try MessageStore(db).undelivered(to: start.request.user.email, limit: 1000))
        }) { [self] result in
            switch result {
            case .success(let (loaded, records)):
                var start = loaded
                let wall = presence.clock.mapping()
                start.request.backlog = records.compactMap { m -> ChatMessage? in
                    guard let from = UserID(email: m.sender), let to = UserID(email: m.recipient) else { return nil }
                    return ChatMessage(id: MessageID(UInt64(m.id)), sender: from, recipient: to, clientMessageID: m.clientMessageID,
                                       body: m.body, sentAt: wall.core(wallMilliseconds: m.createdAt))
                }
                presence.post(.signIn(start.request, target: start.target, principal: start.principal))
            case .failure(let error):
                signInRefused(target, session: nil, reply(to: error))
            }
        }
    }

    /// What the presence thread needs to start a user's session, but the backlog: the
    /// sign-in with contacts and chosen status read from storage, and the reply to send first.
    func sessionStart(_ result: SignInResult, attachment: SessionAttachment,
                      target: ReplyTarget, database: Database) throws -> SessionStart {
        guard let user = UserID(email: result.profile.id) else { throw WireError.invalidEmail(field: "email") }
        let device = Presence.DeviceKind(result.deviceKind)
        let contacts = try ContactStore(database).contacts(of: user.email).compactMap { record -> ContactEntry? in
            guard let peer = UserID(email: record.peerID) else { return nil }
            switch record.state {
            case .accepted: return ContactEntry(user: peer, state: .accepted)
            case .pending: return ContactEntry(user: peer, state: record.requestedBy == user.email ? .requestedByMe : .requestedByThem)
            }
        }
        // Only used when the core has never known this user's choice: the core's own value
        // is always newer (see `PresenceCore.signIn`).
        let chosen = try PresenceStore(database).chosenStatus(of: user.email).flatMap(ChosenStatus.init(wireName:)) ?? .online
        var attachment = attachment
        attachment.deviceTokenID = result.deviceTokenID ?? 0
        // The session ID is issued by the core when the presence thread applies this.
        let request = SignIn(session: SessionID(0), user: user, device: device, chosenStatus: chosen,
                             isOfflineMailEnabled: result.profile.wantsOfflineEmail, contacts: contacts, backlog: [],
                             attachment: attachment)
        return SessionStart(request: request, target: target,
                            principal: .user(WireProfile(result.profile), device: device, deviceToken: result.deviceToken))
    }
}

extension Presence.DeviceKind {
    /// The same kind as stored with a device token.
    init(_ stored: Storage.DeviceKind) {
        switch stored {
        case .desktop: self = .desktop
        case .mobile: self = .mobile
        case .web: self = .web
        }
    }

    /// The kind as the account service and storage spell it.
    var storageKind: Storage.DeviceKind {
        switch self {
        case .desktop: .desktop
        case .mobile: .mobile
        case .web: .web
        }
    }
}
