import Presence

// A `Command` inside a `HomeMessage.op`: a tag, then the case's fields in declaration order
// (Protocol/cluster.md, "Commands"). Only what an edge forwards to a home has a form: a
// storage outcome names a ticket only its own process can redeem, `restoreShown` belongs
// to a process's restart, and a `fromShard` message travels in a `ShardBatch` on streams
// that `RemoteShardBus` checks. Refusing them here (and having no tag for them) means no
// edge, and no corrupted frame, can make a home apply one.

extension Array where Element == UInt8 {
    /// Appends the command, or throws `commandNotForwarded` having appended nothing.
    mutating func appendCommand(_ command: Command) throws(ClusterWireError) {
        switch command {
        case .signIn(let request):
            append(CommandTag.signIn.rawValue)
            appendFixed64(request.session.rawValue)
            appendUserID(request.user)
            append(WireValue.byte(for: request.device))
            append(WireValue.byte(for: request.chosenStatus))
            appendBool(request.isOfflineMailEnabled)
            appendVarint(UInt64(request.contacts.count))
            for entry in request.contacts {
                appendUserID(entry.user)
                append(WireValue.byte(for: entry.state))
            }
            appendVarint(UInt64(request.backlog.count))
            for message in request.backlog { appendChatMessage(message) }
            appendAttachment(request.attachment)
        case .signInSubscriber(let session, let allowed, let attachment):
            append(CommandTag.signInSubscriber.rawValue)
            appendFixed64(session.rawValue)
            // A set has no order of its own (and two equal sets may iterate differently):
            // sorted by bytes, so it has one encoding and the decoder can insist on it.
            appendVarint(UInt64(allowed.count))
            for user in allowed.sorted(by: { $0.email.utf8.lexicographicallyPrecedes($1.email.utf8) }) {
                appendUserID(user)
            }
            appendAttachment(attachment)
        case .signOut(let session):
            appendSessionCommand(.signOut, session)
        case .connectionLost(let session):
            appendSessionCommand(.connectionLost, session)
        case .resume(let session, let lastSeenSequence, let connection):
            appendSessionCommand(.resume, session)
            appendVarint(lastSeenSequence)
            appendFixed64(connection)
        case .heartbeat(let session, let lastSeenSequence):
            appendSessionCommand(.heartbeat, session)
            appendVarint(lastSeenSequence)
        case .activity(let session):
            appendSessionCommand(.activity, session)
        case .setStatus(let session, let status):
            appendSessionCommand(.setStatus, session)
            append(WireValue.byte(for: status))
        case .requestContact(let session, let user):
            appendSessionCommand(.requestContact, session)
            appendUserID(user)
        case .acceptContact(let session, let user):
            appendSessionCommand(.acceptContact, session)
            appendUserID(user)
        case .declineContact(let session, let user):
            appendSessionCommand(.declineContact, session)
            appendUserID(user)
        case .removeContact(let session, let user):
            appendSessionCommand(.removeContact, session)
            appendUserID(user)
        case .send(let session, let to, let clientMessageID, let body):
            appendSessionCommand(.send, session)
            appendUserID(to)
            appendString(clientMessageID)
            appendString(body)
        case .invite(let session, let callee, let call, let payload):
            appendSessionCommand(.invite, session)
            appendUserID(callee)
            appendFixed64(call.rawValue)
            appendString(payload)
        case .ringing(let session, let call):
            appendSessionCommand(.ringing, session)
            appendFixed64(call.rawValue)
        case .accept(let session, let call, let payload):
            appendSessionCommand(.accept, session)
            appendFixed64(call.rawValue)
            appendString(payload)
        case .decline(let session, let call):
            appendSessionCommand(.decline, session)
            appendFixed64(call.rawValue)
        case .cancel(let session, let call):
            appendSessionCommand(.cancel, session)
            appendFixed64(call.rawValue)
        case .hangUp(let session, let call):
            appendSessionCommand(.hangUp, session)
            appendFixed64(call.rawValue)
        case .signal(let session, let call, let payload):
            appendSessionCommand(.signal, session)
            appendFixed64(call.rawValue)
            appendString(payload)
        case .subscribe(let session, let users):
            appendSessionCommand(.subscribe, session)
            appendUserIDs(users)
        case .unsubscribe(let session, let users):
            appendSessionCommand(.unsubscribe, session)
            appendUserIDs(users)
        case .changeProfile(let user, let isOfflineMailEnabled, let except):
            append(CommandTag.changeProfile.rawValue)
            appendUserID(user)
            appendBool(isOfflineMailEnabled)
            if let except {
                append(1)
                appendFixed64(except.rawValue)
            } else {
                append(0)
            }
        case .deleteAccount(let user):
            append(CommandTag.deleteAccount.rawValue)
            appendUserID(user)
        case .messageCommitted:
            throw .commandNotForwarded("messageCommitted")
        case .messageFailed:
            throw .commandNotForwarded("messageFailed")
        case .restoreShown:
            throw .commandNotForwarded("restoreShown")
        case .fromShard:
            throw .commandNotForwarded("fromShard")
        }
    }

    /// The tag and the session every client op names first.
    mutating func appendSessionCommand(_ tag: CommandTag, _ session: SessionID) {
        append(tag.rawValue)
        appendFixed64(session.rawValue)
    }

    /// 32 bytes: the connection, the resume secret's two halves, the device token's row.
    mutating func appendAttachment(_ attachment: SessionAttachment) {
        appendFixed64(attachment.connection)
        appendFixed64(attachment.secretHigh)
        appendFixed64(attachment.secretLow)
        appendFixed64(UInt64(bitPattern: attachment.deviceTokenID))
    }
}

extension WireReader {
    mutating func command() throws(ClusterWireError) -> Command {
        let at = offset
        let raw = try byte()
        guard let tag = CommandTag(rawValue: raw) else { throw .unknownCommandTag(raw, offset: at) }
        switch tag {
        case .signIn:
            let session = try sessionID()
            let user = try userID()
            let device = try value(WireValue.deviceKind)
            let chosen = try value(WireValue.chosenStatus)
            let isOfflineMailEnabled = try bool()
            let contactCount = try count(minimumSize: WireSize.userID + 1)
            var contacts: [ContactEntry] = []
            contacts.reserveCapacity(contactCount)
            for _ in 0..<contactCount {
                let other = try userID()
                contacts.append(ContactEntry(user: other, state: try value(WireValue.contactState)))
            }
            let backlogCount = try count(minimumSize: WireSize.chatMessage)
            var backlog: [ChatMessage] = []
            backlog.reserveCapacity(backlogCount)
            for _ in 0..<backlogCount { backlog.append(try chatMessage()) }
            return .signIn(SignIn(session: session, user: user, device: device, chosenStatus: chosen,
                                  isOfflineMailEnabled: isOfflineMailEnabled, contacts: contacts, backlog: backlog,
                                  attachment: try attachment()))
        case .signInSubscriber:
            let session = try sessionID()
            let count = try count(minimumSize: WireSize.userID)
            var allowed = Set<UserID>(minimumCapacity: count)
            var previous: UserID?
            for _ in 0..<count {
                let start = offset
                let user = try userID()
                if let previous, !previous.email.utf8.lexicographicallyPrecedes(user.email.utf8) {
                    throw .setOutOfOrder(offset: start)
                }
                allowed.insert(user)
                previous = user
            }
            return .signInSubscriber(session, allowed: allowed, attachment: try attachment())
        case .signOut:
            return .signOut(try sessionID())
        case .connectionLost:
            return .connectionLost(try sessionID())
        case .resume:
            let session = try sessionID()
            let lastSeen = try varint()
            return .resume(session, lastSeenSequence: lastSeen, connection: try fixed64())
        case .heartbeat:
            let session = try sessionID()
            return .heartbeat(session, lastSeenSequence: try varint())
        case .activity:
            return .activity(try sessionID())
        case .setStatus:
            let session = try sessionID()
            return .setStatus(session, try value(WireValue.chosenStatus))
        case .requestContact:
            let session = try sessionID()
            return .requestContact(session, try userID())
        case .acceptContact:
            let session = try sessionID()
            return .acceptContact(session, try userID())
        case .declineContact:
            let session = try sessionID()
            return .declineContact(session, try userID())
        case .removeContact:
            let session = try sessionID()
            return .removeContact(session, try userID())
        case .send:
            let session = try sessionID()
            let to = try userID()
            let clientMessageID = try string()
            return .send(session, to: to, clientMessageID: clientMessageID, body: try string())
        case .invite:
            let session = try sessionID()
            let callee = try userID()
            let call = CallID(try fixed64())
            return .invite(session, callee: callee, call: call, payload: try string())
        case .ringing:
            let session = try sessionID()
            return .ringing(session, CallID(try fixed64()))
        case .accept:
            let session = try sessionID()
            let call = CallID(try fixed64())
            return .accept(session, call, payload: try string())
        case .decline:
            let session = try sessionID()
            return .decline(session, CallID(try fixed64()))
        case .cancel:
            let session = try sessionID()
            return .cancel(session, CallID(try fixed64()))
        case .hangUp:
            let session = try sessionID()
            return .hangUp(session, CallID(try fixed64()))
        case .signal:
            let session = try sessionID()
            let call = CallID(try fixed64())
            return .signal(session, call, payload: try string())
        case .subscribe:
            let session = try sessionID()
            return .subscribe(session, try userIDs())
        case .unsubscribe:
            let session = try sessionID()
            return .unsubscribe(session, try userIDs())
        case .changeProfile:
            let user = try userID()
            let isOfflineMailEnabled = try bool()
            let except = try isPresent() ? SessionID(try fixed64()) : nil
            return .changeProfile(user, isOfflineMailEnabled: isOfflineMailEnabled, except: except)
        case .deleteAccount:
            return .deleteAccount(try userID())
        }
    }

    mutating func sessionID() throws(ClusterWireError) -> SessionID {
        SessionID(try fixed64())
    }

    mutating func attachment() throws(ClusterWireError) -> SessionAttachment {
        let connection = try fixed64()
        let secretHigh = try fixed64()
        let secretLow = try fixed64()
        return SessionAttachment(connection: connection, secretHigh: secretHigh, secretLow: secretLow,
                                 deviceTokenID: Int64(bitPattern: try fixed64()))
    }
}
