import Accounts
import Presence
import Storage
import Transport
import WebSocket

// A signed-in user's ops that need storage or a password, carried out on an account
// worker once the presence thread has resolved who owns the session.

/// What the presence thread knows of a session when it hands one of its ops to a worker.
struct SessionOwner: Sendable {
    var session: SessionID
    var user: UserID
    /// The row of the device token the session signed in with, if any.
    var deviceTokenID: Int64?
}

extension GatewayRuntime {
    /// The ops of a signed-in user that need storage or a password, on an account worker.
    /// Called by the presence thread, which resolved the session's owner. A full account
    /// queue answers the op `overloaded`.
    func accountOp(_ op: AccountOp, owner: SessionOwner, target: ReplyTarget, remoteAddress: String) {
        let runtime = self
        let user = owner.user, session = owner.session
        let job: WorkerPool<AccountWorker>.Job
        switch op {
        case .history(let with, let before, let limit):
            job = { worker in
                runtime.answer(target) {
                    // The presence shard checked that `with` is an accepted contact (a former
                    // contact's conversation is kept, and reads again if they reconnect).
                    let records = try MessageStore(worker.database).history(
                        between: user.email, and: with.email, before: before.map { Int64($0.rawValue) }, limit: limit + 1)
                    return ReplyEncoder.history(id: target.requestID, HistoryPage(records: records, limit: limit))
                }
            }
        case .updateProfile(let changes):
            job = { worker in
                runtime.answer(target) {
                    let profile = try worker.service.updateProfile(accountID: user.email, changes.profileEdit)
                    // Saved; after the reply every live session of the user signs in again
                    // (4003) and gets the new profile with the new login.
                    return (ReplyEncoder.profile(id: target.requestID, WireProfile(profile)),
                            .changeProfile(user, isOfflineMailEnabled: profile.wantsOfflineEmail))
                }
            }
        case .changePassword(let current, let new):
            job = { worker in
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
            job = { worker in
                runtime.answer(target) {
                    try worker.service.confirmPassword(accountID: user.email, password: password, sourceAddress: remoteAddress)
                    _ = try worker.service.deleteAccount(accountID: user.email)
                    // Contacts see the user go offline and leave their lists; sessions close (4004).
                    return (ReplyEncoder.ok(id: target.requestID), .deleteAccount(user))
                }
            }
        }
        if !accounts.offer(job) { refuseOverloaded(target) }
    }

    /// Revokes the "stay signed in" token of a device that logged out, on an account
    /// worker. Called by the presence thread once the core ended the session. Never
    /// refused (one per session that logs out: bounded by admission, see `WorkerPool`).
    func revokeDeviceToken(_ tokenID: Int64) {
        accounts.submit { worker in _ = try? worker.service.logOut(deviceTokenID: tokenID) }
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
            reply(target, bytes)
            if let command { presence.post(.command(command, target: nil)) }
        } catch {
            reply(target, ReplyEncoder.error(id: target.requestID, reply(to: error)))
        }
    }
}

extension HistoryPage {
    /// A page from storage rows fetched with `limit + 1`: the extra row only says that
    /// there is more. Rows whose addresses are not valid IDs (none should be) are skipped.
    init(records: [MessageRecord], limit: Int) {
        self.init(messages: records.prefix(limit).compactMap { record in
            guard let sender = UserID(email: record.sender), let recipient = UserID(email: record.recipient) else { return nil }
            return ChatMessage(id: MessageID(UInt64(max(0, record.id))), sender: sender, recipient: recipient,
                               clientMessageID: record.clientMessageID, body: record.body,
                               sentAt: Instant(milliseconds: record.createdAt))
        }, hasMore: records.count > limit)
    }
}
