import Foundation
import Presence
import Storage
import Transport

// Carrying out the core's effects: deliveries encoded once and handed to the loops, writes
// to the storage writer (acks only after COMMIT), mail to the account workers, and the
// answers to `send` requests.

extension PresenceThread {

    func perform() {
        for effect in effects { perform(effect) }
        effects.removeAll(keepingCapacity: true)
    }

    func perform(_ effect: Effect) {
        switch effect {
        case .deliver(let event, let deliveries):
            deliver(event, deliveries)
        case .close(_, let reason, let connection):
            let code = GatewayCloseCode(reason)
            if let connection = ConnectionID(packed: connection) {
                runtime.send(connection, ReplyEncoder.closing(code), epoch: epoch.tag)
                runtime.close(connection, code: code.closeCode, reason: code.reason, epoch: epoch.tag)
            }
        case .persistChosenStatus(let user, let status):
            // Hidden is stored at once (with whatever waits before it): a crash inside the
            // window must not bring a hidden user back as Online at their next sign-in.
            // Other choices may wait; a crash then only loses a harmless change.
            if status == .hidden {
                chosenStatusWritesDue = .now
            } else if chosenStatusWritesDue == nil {
                chosenStatusWritesDue = .now + runtime.configuration.chosenStatusWriteDelay
            }
            chosenStatusWrites.append((user, status))
        case .persistContact(let record):
            let now = clock.wall().milliseconds
            runtime.write { db in
                let store = ContactStore(db)
                switch record.state {
                case .requestedByMe?: _ = try store.request(from: record.user.email, to: record.other.email, at: now)
                case .requestedByThem?: _ = try store.request(from: record.other.email, to: record.user.email, at: now)
                case .accepted?:
                    if try !store.accept(by: record.user.email, from: record.other.email, at: now) {
                        _ = try store.request(from: record.user.email, to: record.other.email, at: now)
                        _ = try store.accept(by: record.user.email, from: record.other.email, at: now)
                    }
                case nil: _ = try store.remove(record.user.email, record.other.email)
                }
            }
        case .persistMessage(let message):
            runtime.commitMessage(message, sentAt: clock.mapping().wall(message.sentAt)) { [self] result in
                switch result {
                case .success(let id): post(.command(.messageCommitted(message.ticket, MessageID(UInt64(id))), target: nil))
                case .failure: post(.command(.messageFailed(message.ticket), target: nil))
                }
            }
        case .markDelivered(let id, _):
            runtime.write { db in _ = try MessageStore(db).markDelivered(ids: [Int64(id.rawValue)]) }
        case .persistMissedCall(let call):
            let at = clock.mapping().wall(call.at).milliseconds
            runtime.write { db in
                try PresenceStore(db).recordMissedCall(callID: Int64(call.call.rawValue), caller: call.caller.email,
                                                       callee: call.callee.email, at: at)
            }
        case .sendOfflineMail(let mail):
            runtime.queueOfflineMail(mail)
        case .answerSend(let sender, let clientMessageID, let outcome):
            answerSends(SendKey(sender: sender, clientMessageID: clientMessageID), outcome)
        case .forward(let message, let shard):
            epoch.carry(message, from: self.shard, to: shard)
        }
    }

    // How long a chosen status waits is `GatewayConfiguration.chosenStatusWriteDelay`.
    // Storing each batch of inputs' statuses at once still cost the storage writer ~17% of
    // the pinned server's time under fan-out load (a B-tree lookup and a 4 KiB WAL page per
    // UPDATE, and a commit per batch); gathered over the window, a commit rewrites each page
    // of the accounts table once for all of its rows that changed, and a user who changed
    // twice is written once (loadtest/README.md, "Pinned fan-out, 3 December (second
    // session)"). The core keeps the newest choice in memory and storage is read only for a
    // user the core never knew (forgotten after 60 s), so the delay is seen only by a crash,
    // which loses at most the window's choices, never a Hidden one (stored at once); a stop
    // stores them all.

    /// Stores the chosen statuses waiting, once they are due (at once with `now: nil`), as
    /// one storage job with the
    /// newest choice of each user. The job fails (and is logged) as a whole, like the
    /// single UPDATEs it replaces would all have failed on a broken database.
    func writeChosenStatuses(now: ContinuousClock.Instant? = .now) {
        guard !chosenStatusWrites.isEmpty else { return }
        if let now, let due = chosenStatusWritesDue, now < due { return }
        chosenStatusWritesDue = nil
        var newest: [UserID: Int] = [:]
        newest.reserveCapacity(chosenStatusWrites.count)
        for (k, (user, _)) in chosenStatusWrites.enumerated() { newest[user] = k }
        let writes = chosenStatusWrites.indices.compactMap { k in newest[chosenStatusWrites[k].0] == k ? chosenStatusWrites[k] : nil }
        chosenStatusWrites.removeAll(keepingCapacity: chosenStatusWrites.capacity <= 4096)
        runtime.write { db in
            let store = PresenceStore(db)
            for (user, status) in writes { _ = try store.setChosenStatus(of: user.email, to: status.wireName) }
        }
    }

    func deliver(_ event: Event, _ deliveries: [Delivery]) {
        var recipients: [(ConnectionID, UInt64)] = []
        recipients.reserveCapacity(deliveries.count)
        for d in deliveries {
            if let connection = ConnectionID(packed: d.connection) { recipients.append((connection, d.sequence)) }
        }
        guard !recipients.isEmpty else { return }
        // Encoded once for every recipient; each gets only its own `{"seq":N,` prefix.
        // Timestamps leave as wall-clock time (`PresenceClock`).
        let body = EventEncoder.encodeEventBody(event, wallOffset: clock.mapping().offset)
        runtime.deliver(body: body, to: recipients, epoch: epoch.tag)
        hasDelivered = true
    }

    /// Answers every request waiting on this send, from whichever sessions, whether or not
    /// any of them is still connected, and forgets the key: the one place entries leave.
    func answerSends(_ key: SendKey, _ outcome: SendOutcome) {
        guard let targets = waitingSends.removeValue(forKey: key) else { return }
        for t in targets {
            let reply: [UInt8]
            switch outcome {
            case .accepted(let ack):
                reply = ReplyEncoder.chatAccepted(id: t.requestID, ack)
            case .failed:
                reply = ReplyEncoder.error(id: t.requestID, ErrorReply(code: "storage_failed", message: "The message was not stored; send it again.",
                                                                      httpStatus: 503))
            }
            runtime.reply(t, reply)
        }
    }
}
