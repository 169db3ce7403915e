import ClusterWire
import Presence

// Values for the edge ↔ home forms: hand-picked edge cases covering every forwarded
// `Command`, every `EdgeMessage` and `HomeMessage` case, and a seeded generator for
// thousands more. Kept beside Samples.swift, whose tables they reuse.

extension Edge {
    static let attachments = [
        SessionAttachment.none,
        SessionAttachment(connection: .max, secretHigh: .max, secretLow: 0x0102_0304_0506_0708, deviceTokenID: .min),
        SessionAttachment(connection: 0x0A0B, secretHigh: 1, secretLow: 2, deviceTokenID: -1),
    ]
    static let sequences: [UInt64] = [0, 1, 127, 128, 16_383, 16_384, .max]
    static let connections: [UInt64] = [0, 1, 0x8000_0000_0000_0001, .max]
    static let allStatesButNil: [ContactState] = [.accepted, .requestedByMe, .requestedByThem]

    /// Every case of `Command` that an edge forwards, with edge values.
    static let commands: [Command] = {
        var commands: [Command] = []
        commands.append(.signIn(SignIn(session: sessions[0], user: shortest, device: .desktop)))
        for (index, device) in DeviceKind.allCases.enumerated() {
            commands.append(.signIn(SignIn(
                session: sessions[index % sessions.count], user: users[index % users.count], device: device,
                chosenStatus: ChosenStatus.allCases[index % 3], isOfflineMailEnabled: index.isMultiple(of: 2),
                contacts: users.enumerated().map { ContactEntry(user: $1, state: allStatesButNil[($0 + index) % 3]) },
                backlog: chats, attachment: attachments[index % attachments.count])))
        }
        commands.append(.signIn(SignIn(
            session: sessions[2], user: longest, device: .web, chosenStatus: .hidden, isOfflineMailEnabled: true,
            contacts: (0..<500).map { ContactEntry(user: user("k\($0)@x.io"), state: allStatesButNil[$0 % 3]) },
            backlog: (0..<40).map { ChatMessage(id: MessageID(UInt64($0)), sender: user("k\($0)@x.io"), recipient: longest,
                                                clientMessageID: "m\($0)", body: strings[$0 % 5], sentAt: instants[$0 % 5]) },
            attachment: attachments[1])))
        for (index, session) in sessions.enumerated() {
            commands.append(.signInSubscriber(session, allowed: [], attachment: attachments[index]))
        }
        commands.append(.signInSubscriber(sessions[1], allowed: Set(users), attachment: attachments[2]))
        commands.append(.signInSubscriber(sessions[2], allowed: Set((0..<300).map { user("w\($0)@例え.jp") }),
                                          attachment: attachments[1]))
        for session in sessions {
            commands += [.signOut(session), .connectionLost(session), .activity(session)]
        }
        for (index, sequence) in sequences.enumerated() {
            let session = sessions[index % sessions.count]
            commands.append(.resume(session, lastSeenSequence: sequence, connection: connections[index % connections.count]))
            commands.append(.heartbeat(session, lastSeenSequence: sequence))
        }
        for status in ChosenStatus.allCases { commands.append(.setStatus(sessions[1], status)) }
        for (index, other) in users.enumerated() {
            let session = sessions[index % sessions.count]
            commands += [.requestContact(session, other), .acceptContact(session, other), .declineContact(session, other),
                         .removeContact(session, other), .deleteAccount(other)]
            commands.append(.changeProfile(other, isOfflineMailEnabled: index.isMultiple(of: 2), except: nil))
            commands.append(.changeProfile(other, isOfflineMailEnabled: !index.isMultiple(of: 2), except: session))
        }
        for (index, string) in strings.enumerated() {
            let session = sessions[index % sessions.count]
            let call = calls[index % calls.count]
            commands.append(.send(session, to: users[index % users.count], clientMessageID: strings[(index + 1) % strings.count],
                                  body: string))
            commands.append(.invite(session, callee: users[(index + 1) % users.count], call: call, payload: string))
            commands.append(.accept(session, call, payload: string))
            commands.append(.signal(session, call, payload: string))
        }
        for (index, call) in calls.enumerated() {
            let session = sessions[index % sessions.count]
            commands += [.ringing(session, call), .decline(session, call), .cancel(session, call), .hangUp(session, call)]
        }
        for list in [[], users, (0..<300).map { user("s\($0)@x.io") }] {
            commands += [.subscribe(sessions[0], list), .unsubscribe(sessions[2], list)]
        }
        return commands
    }()

    /// The commands an edge never forwards: refused when encoding.
    static let unforwardedCommands: [Command] = [
        .messageCommitted(MessageTicket(1), MessageID(2)),
        .messageFailed(MessageTicket(.max)),
        .restoreShown([ShownPresence(user: plain, view: views[1])], until: Instant(milliseconds: 5)),
        .fromShard(.callBusy(CallID(1))),
    ]

    static let requestIDs: [String?] = [nil, "", "1", "req-42", "日本", String(repeating: "r", count: 200)]

    static let homeMessages: [HomeMessage] = commands.enumerated().map { index, command in
        .op(edgeNode: connections[index % connections.count], connection: connections[(index + 1) % connections.count],
            requestID: requestIDs[index % requestIDs.count], command: command)
    }

    static let edgeMessages: [EdgeMessage] = {
        var messages: [EdgeMessage] = []
        let body = Array(#""type":"presence","user":"ann@example.org","status":"online"}"#.utf8)
        messages.append(.deliver(body: [], to: []))
        messages.append(.deliver(body: body, to: [EdgeRecipient(connection: 7, sequence: 1)]))
        messages.append(.deliver(body: body, to: (0..<50).map { EdgeRecipient(connection: UInt64($0) << 32 | 9, sequence: UInt64($0 * 37)) }))
        messages.append(.deliver(body: Array(longString.utf8), to: zip(connections, sequences).map {
            EdgeRecipient(connection: $0, sequence: $1)
        }))
        for (index, connection) in connections.enumerated() {
            // Bytes are opaque: not even UTF-8 is required of them.
            let bytes: [[UInt8]] = [[], Array(#"{"type":"ok","id":"1"}"#.utf8), [0xFF, 0x00, 0xC3], Array(longString.utf8)]
            messages.append(.reply(connection: connection, bytes: bytes[index]))
            messages.append(.signInRefused(connection: connection))
        }
        for (index, (code, reason)) in [(UInt16(4000), "signed_out"), (1012, ""), (4005, "resumed on another connection"),
                                        (.max, "zoë 👋🏽"), (0, "\u{0}")].enumerated() {
            messages.append(.close(connection: connections[index % connections.count], code: code, reason: reason))
        }
        for (index, device) in ([nil, .desktop, .mobile, .web] as [DeviceKind?]).enumerated() {
            messages.append(.attach(connection: connections[index], session: sessions[index % sessions.count], device: device))
        }
        return messages
    }()
}

/// The case's name; exhaustive, so a new `Command` case fails to compile here until the
/// tables (and the wire format, or its refusal) know it.
func caseName(_ command: Command) -> String {
    switch command {
    case .signIn: "signIn"
    case .signInSubscriber: "signInSubscriber"
    case .signOut: "signOut"
    case .connectionLost: "connectionLost"
    case .resume: "resume"
    case .heartbeat: "heartbeat"
    case .activity: "activity"
    case .setStatus: "setStatus"
    case .requestContact: "requestContact"
    case .acceptContact: "acceptContact"
    case .declineContact: "declineContact"
    case .removeContact: "removeContact"
    case .send: "send"
    case .messageCommitted: "messageCommitted"
    case .messageFailed: "messageFailed"
    case .invite: "invite"
    case .ringing: "ringing"
    case .accept: "accept"
    case .decline: "decline"
    case .cancel: "cancel"
    case .hangUp: "hangUp"
    case .signal: "signal"
    case .subscribe: "subscribe"
    case .unsubscribe: "unsubscribe"
    case .changeProfile: "changeProfile"
    case .deleteAccount: "deleteAccount"
    case .restoreShown: "restoreShown"
    case .fromShard: "fromShard"
    }
}

func caseName(_ message: EdgeMessage) -> String {
    switch message {
    case .deliver: "deliver"
    case .reply: "reply"
    case .close: "close"
    case .attach: "attach"
    case .signInRefused: "signInRefused"
    }
}

/// The wire's tag for each case, as Protocol/cluster.md lists them.
let commandTags: [String: UInt8] = [
    "signIn": 1, "signInSubscriber": 2, "signOut": 3, "connectionLost": 4, "resume": 5, "heartbeat": 6, "activity": 7,
    "setStatus": 8, "requestContact": 9, "acceptContact": 10, "declineContact": 11, "removeContact": 12, "send": 13,
    "invite": 14, "ringing": 15, "accept": 16, "decline": 17, "cancel": 18, "hangUp": 19, "signal": 20,
    "subscribe": 21, "unsubscribe": 22, "changeProfile": 23, "deleteAccount": 24,
]
let unforwardedCommandNames: Set<String> = ["messageCommitted", "messageFailed", "restoreShown", "fromShard"]
let edgeMessageTags: [String: UInt8] = ["deliver": 1, "reply": 2, "close": 3, "attach": 4, "signInRefused": 5]
let homeOpTag: UInt8 = 1

/// Field-by-field equality: `Command` is not `Equatable`. Exhaustive over `a`'s case.
func same(_ a: Command, _ b: Command) -> Bool {
    switch (a, b) {
    case let (.signIn(x), .signIn(y)):
        x.session == y.session && x.user == y.user && x.device == y.device && x.chosenStatus == y.chosenStatus
            && x.isOfflineMailEnabled == y.isOfflineMailEnabled && x.contacts == y.contacts && x.backlog == y.backlog
            && x.attachment == y.attachment
    case let (.signInSubscriber(s1, a1, t1), .signInSubscriber(s2, a2, t2)): s1 == s2 && a1 == a2 && t1 == t2
    case let (.signOut(s1), .signOut(s2)), let (.connectionLost(s1), .connectionLost(s2)),
         let (.activity(s1), .activity(s2)):
        s1 == s2
    case let (.resume(s1, q1, c1), .resume(s2, q2, c2)): s1 == s2 && q1 == q2 && c1 == c2
    case let (.heartbeat(s1, q1), .heartbeat(s2, q2)): s1 == s2 && q1 == q2
    case let (.setStatus(s1, c1), .setStatus(s2, c2)): s1 == s2 && c1 == c2
    case let (.requestContact(s1, u1), .requestContact(s2, u2)), let (.acceptContact(s1, u1), .acceptContact(s2, u2)),
         let (.declineContact(s1, u1), .declineContact(s2, u2)), let (.removeContact(s1, u1), .removeContact(s2, u2)):
        s1 == s2 && u1 == u2
    case let (.send(s1, t1, m1, b1), .send(s2, t2, m2, b2)): s1 == s2 && t1 == t2 && m1 == m2 && b1 == b2
    case let (.messageCommitted(t1, m1), .messageCommitted(t2, m2)): t1 == t2 && m1 == m2
    case let (.messageFailed(t1), .messageFailed(t2)): t1 == t2
    case let (.invite(s1, u1, c1, p1), .invite(s2, u2, c2, p2)): s1 == s2 && u1 == u2 && c1 == c2 && p1 == p2
    case let (.ringing(s1, c1), .ringing(s2, c2)), let (.decline(s1, c1), .decline(s2, c2)),
         let (.cancel(s1, c1), .cancel(s2, c2)), let (.hangUp(s1, c1), .hangUp(s2, c2)):
        s1 == s2 && c1 == c2
    case let (.accept(s1, c1, p1), .accept(s2, c2, p2)), let (.signal(s1, c1, p1), .signal(s2, c2, p2)):
        s1 == s2 && c1 == c2 && p1 == p2
    case let (.subscribe(s1, u1), .subscribe(s2, u2)), let (.unsubscribe(s1, u1), .unsubscribe(s2, u2)):
        s1 == s2 && u1 == u2
    case let (.changeProfile(u1, o1, e1), .changeProfile(u2, o2, e2)): u1 == u2 && o1 == o2 && e1 == e2
    case let (.deleteAccount(u1), .deleteAccount(u2)): u1 == u2
    case let (.restoreShown(r1, i1), .restoreShown(r2, i2)): r1 == r2 && i1 == i2
    case let (.fromShard(m1), .fromShard(m2)): m1 == m2
    default: false
    }
}

func same(_ a: HomeMessage, _ b: HomeMessage) -> Bool {
    switch (a, b) {
    case let (.op(n1, c1, r1, x1), .op(n2, c2, r2, x2)): n1 == n2 && c1 == c2 && r1 == r2 && same(x1, x2)
    }
}

func same(_ a: HomeBatch, _ b: HomeBatch) -> Bool {
    a.header == b.header && a.messages.count == b.messages.count && zip(a.messages, b.messages).allSatisfy { same($0, $1) }
}

extension MessageGenerator {
    mutating func session() -> SessionID { SessionID(uint64()) }

    mutating func attachment() -> SessionAttachment {
        SessionAttachment(connection: uint64(), secretHigh: uint64(), secretLow: uint64(),
                          deviceTokenID: Int64(bitPattern: uint64()))
    }

    /// A random forwarded command.
    mutating func command() -> Command {
        switch int(1...24) {
        case 1: .signIn(SignIn(session: session(), user: userID(), device: DeviceKind.allCases.randomElement(using: &random)!,
                               chosenStatus: ChosenStatus.allCases.randomElement(using: &random)!,
                               isOfflineMailEnabled: chance(0.5),
                               contacts: (0..<count()).map { _ in
                                   ContactEntry(user: userID(), state: Edge.allStatesButNil.randomElement(using: &random)!)
                               },
                               backlog: (0..<count() / 4).map { _ in chat() }, attachment: attachment()))
        case 2: .signInSubscriber(session(), allowed: Set(users()), attachment: attachment())
        case 3: .signOut(session())
        case 4: .connectionLost(session())
        case 5: .resume(session(), lastSeenSequence: uint64(), connection: uint64())
        case 6: .heartbeat(session(), lastSeenSequence: uint64())
        case 7: .activity(session())
        case 8: .setStatus(session(), ChosenStatus.allCases.randomElement(using: &random)!)
        case 9: .requestContact(session(), userID())
        case 10: .acceptContact(session(), userID())
        case 11: .declineContact(session(), userID())
        case 12: .removeContact(session(), userID())
        case 13: .send(session(), to: userID(), clientMessageID: string(), body: string(maxLength: 200))
        case 14: .invite(session(), callee: userID(), call: CallID(uint64()), payload: string(maxLength: 300))
        case 15: .ringing(session(), CallID(uint64()))
        case 16: .accept(session(), CallID(uint64()), payload: string(maxLength: 300))
        case 17: .decline(session(), CallID(uint64()))
        case 18: .cancel(session(), CallID(uint64()))
        case 19: .hangUp(session(), CallID(uint64()))
        case 20: .signal(session(), CallID(uint64()), payload: string(maxLength: 300))
        case 21: .subscribe(session(), users())
        case 22: .unsubscribe(session(), users())
        case 23: .changeProfile(userID(), isOfflineMailEnabled: chance(0.5), except: chance(0.5) ? session() : nil)
        default: .deleteAccount(userID())
        }
    }

    mutating func homeMessage() -> HomeMessage {
        .op(edgeNode: uint64(), connection: uint64(), requestID: chance(0.2) ? nil : string(), command: command())
    }

    mutating func bytes() -> [UInt8] {
        (0..<(chance(0.02) ? int(200...5_000) : int(0...120))).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    }

    mutating func edgeMessage() -> EdgeMessage {
        switch int(1...5) {
        case 1: .deliver(body: bytes(), to: (0..<count()).map { _ in EdgeRecipient(connection: uint64(), sequence: uint64()) })
        case 2: .reply(connection: uint64(), bytes: bytes())
        case 3: .close(connection: uint64(), code: UInt16(truncatingIfNeeded: uint64()), reason: string())
        case 4: .attach(connection: uint64(), session: session(),
                        device: chance(0.25) ? nil : DeviceKind.allCases.randomElement(using: &random)!)
        default: .signInRefused(connection: uint64())
        }
    }
}

func encoded(_ command: Command) throws -> [UInt8] {
    var bytes: [UInt8] = []
    try ClusterWire.encode(command, into: &bytes)
    return bytes
}

func encoded(_ message: HomeMessage) throws -> [UInt8] {
    var bytes: [UInt8] = []
    try ClusterWire.encode(message, into: &bytes)
    return bytes
}

func encoded(_ batch: HomeBatch) throws -> [UInt8] {
    var bytes: [UInt8] = []
    try ClusterWire.encodeBatch(batch, into: &bytes)
    return bytes
}

func encoded(_ message: EdgeMessage) -> [UInt8] {
    var bytes: [UInt8] = []
    ClusterWire.encode(message, into: &bytes)
    return bytes
}

func encoded(_ batch: EdgeBatch) -> [UInt8] {
    var bytes: [UInt8] = []
    ClusterWire.encodeBatch(batch, into: &bytes)
    return bytes
}
