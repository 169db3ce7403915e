import Accounts
import Foundation
import Presence
import Storage
import Transport
import WebSocket

extension GatewayHandler {
    /// Routes one decoded op: sign-ins to the account workers, everything a signed-in
    /// session does to the presence thread (which owns the session and, for the few ops
    /// that need storage or a password, hands them on to a worker with the session's user).
    /// Every op gets exactly one reply.
    func dispatch(_ request: ClientRequest, from id: ConnectionID, word: ConnectionWord, remoteAddress: String, on loop: EventLoop) {
        let target = ReplyTarget(connection: id, requestID: request.id)
        switch (request.op, word.phase) {
        case (.signIn(let credential), .awaitingSignIn):
            loop.setHandlerWord(ConnectionWord.signingIn(SignInMethod(credential)).raw, for: id)
            runtime.signIn(credential, target: target, remoteAddress: remoteAddress)
        case (.resume(let token, let lastSeq), .awaitingSignIn):
            guard let token = ResumeToken(text: token) else {
                reply(id, ReplyEncoder.error(id: request.id, ErrorReply(PresenceError.unknownSession)), on: loop)
                return
            }
            loop.setHandlerWord(ConnectionWord.signingIn(.resume).raw, for: id)
            if !runtime.presence.offer(.resume(token, lastSeq: lastSeq, target: target), replyTo: target) {
                // Refused `overloaded`: the connection may try again.
                loop.setHandlerWord(ConnectionWord.awaitingSignIn.raw, for: id)
            }
        case (.signIn, _), (.resume, _):
            reply(id, ReplyEncoder.error(id: request.id, ErrorReply(WireError.alreadySignedIn)), on: loop)
        case (_, .awaitingSignIn), (_, .signingIn), (_, .none):
            reply(id, ReplyEncoder.error(id: request.id, ErrorReply(WireError.notSignedIn)), on: loop)
        case (let op, .subscriber):
            switch op {
            case .subscribe, .unsubscribe, .logOut, .heartbeat:
                runtime.presence.offer(.command(op.presenceCommand(for: word.session)!, target: target), replyTo: target)
            default:
                reply(id, ReplyEncoder.error(id: request.id, ErrorReply(PresenceError.wrongSessionKind)), on: loop)
            }
        case (let op, .user):
            signedInOp(op, target: target, session: word.session, remoteAddress: remoteAddress)
        }
    }

    private func signedInOp(_ op: ClientOp, target: ReplyTarget, session: SessionID, remoteAddress: String) {
        switch op {
        case .history, .updateProfile, .changePassword, .deleteAccount, .logOut:
            runtime.presence.offer(.accountOp(op, session: session, target: target, remoteAddress: remoteAddress), replyTo: target)
        case .invite:
            let call = runtime.newCallID()
            guard let command = op.presenceCommand(for: session, newCall: call) else { return }
            runtime.presence.offer(.command(command, target: target, reply: ReplyEncoder.invite(id: target.requestID, call: call)),
                                   replyTo: target)
        default:
            guard let command = op.presenceCommand(for: session) else {
                runtime.server.send(target.connection, opcode: .text,
                                    payload: ReplyEncoder.error(id: target.requestID, ErrorReply(WireError.unknownOp(op.name))))
                return
            }
            runtime.presence.offer(.command(command, target: target), replyTo: target)
        }
    }
}

/// What the presence thread knows of a session when it hands one of its ops to a worker.
struct SessionOwner: Sendable {
    var session: SessionID
    var user: UserID
    /// The row of the device token the session signed in with, if any.
    var deviceTokenID: Int64?
}

extension GatewayRuntime {
    /// The ops of a signed-in user that need storage or a password, on an account worker.
    /// Called by the presence thread, which resolved the session's owner.
    func accountOp(_ op: ClientOp, owner: SessionOwner, target: ReplyTarget, remoteAddress: String) {
        let runtime = self
        let user = owner.user, session = owner.session
        switch op {
        case .history(let with, let before, let limit):
            accounts.submit { worker in
                runtime.answer(target) {
                    guard with != user else { throw PresenceError.cannotTargetSelf }
                    // Only accepted contacts read their conversation (a former contact's is
                    // kept, and reads again if they reconnect).
                    guard try ContactStore(worker.database).areContacts(user.email, with.email) else { throw PresenceError.notAContact }
                    let records = try MessageStore(worker.database).history(
                        between: user.email, and: with.email, before: before.map { Int64($0.rawValue) }, limit: limit + 1)
                    return ReplyEncoder.history(id: target.requestID, HistoryPage(records: records, limit: limit))
                }
            }
        case .updateProfile(let changes):
            accounts.submit { worker in
                runtime.answer(target) {
                    let profile = try worker.service.updateProfile(accountID: user.email, changes.profileEdit)
                    // Saved; after the reply every live session of the user signs in again
                    // (4003) and gets the new profile with the new login.
                    return (ReplyEncoder.profile(id: target.requestID, WireProfile(profile)),
                            .changeProfile(user, isOfflineMailEnabled: profile.wantsOfflineEmail))
                }
            }
        case .changePassword(let current, let new):
            accounts.submit { worker in
                runtime.answer(target) {
                    _ = try worker.service.changePassword(accountID: user.email, currentPassword: current, newPassword: new,
                                                          currentDeviceTokenID: owner.deviceTokenID, sourceAddress: remoteAddress)
                    let profile = try worker.service.profile(accountID: user.email)
                    // This session proved the current password: only the others sign in again.
                    return (ReplyEncoder.ok(id: target.requestID),
                            .changeProfile(user, isOfflineMailEnabled: profile.wantsOfflineEmail, except: session))
                }
            }
        case .deleteAccount(let password):
            accounts.submit { worker in
                runtime.answer(target) {
                    try worker.service.confirmPassword(accountID: user.email, password: password, sourceAddress: remoteAddress)
                    _ = try worker.service.deleteAccount(accountID: user.email)
                    // Contacts see the user go offline and leave their lists; sessions close (4004).
                    return (ReplyEncoder.ok(id: target.requestID), .deleteAccount(user))
                }
            }
        case .logOut:
            if let tokenID = owner.deviceTokenID {
                // Logging out revokes this device's "stay signed in" token.
                accounts.submit { worker in _ = try? worker.service.logOut(deviceTokenID: tokenID) }
            }
        default:
            break
        }
    }
}

extension GatewayRuntime {
    /// Sends the reply `work` builds, or its error as an error reply.
    func answer(_ target: ReplyTarget, _ work: () throws -> [UInt8]) {
        answer(target) { (try work(), nil) }
    }

    /// Sends the reply `work` builds and then hands its command to the presence thread, so
    /// the reply reaches the client before anything the command causes (a close, say).
    func answer(_ target: ReplyTarget, _ work: () throws -> ([UInt8], Command?)) {
        do {
            let (bytes, command) = try work()
            server.send(target.connection, opcode: .text, payload: bytes)
            if let command { presence.post(.command(command, target: nil)) }
        } catch {
            server.send(target.connection, opcode: .text, payload: ReplyEncoder.error(id: target.requestID, reply(to: error)))
        }
    }

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
                accounts.submit { [self] worker in
                    signIn(credential, attachment: attachment, target: target, remoteAddress: remoteAddress, worker: worker)
                }
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
