import ClusterWire
import Presence

// Values to encode: one table of hand-picked edge cases covering every case of
// `ShardMessage` and `Event`, and a seeded generator for thousands more.

func user(_ email: String) -> UserID {
    guard let id = UserID(email: email) else { fatalError("not an address: \(email)") }
    return id
}

enum Edge {
    static let shortest = user("a@b")
    /// 254 bytes, the longest address `UserID` accepts.
    static let longest = user(String(repeating: "x", count: 250) + "@a.b")
    static let nonASCII = user("zoë.øre@例え.jp")
    static let plain = user("ann@example.org")
    static let longString = String(repeating: "0123456789abcdef", count: 4_096) + "é"
    static let strings = ["", "x", "héllo wörld 👋🏽", "\u{0}nul\u{0}", "日本語のテキスト", longString]
    static let instants = [Instant(milliseconds: .min), Instant(milliseconds: -1), Instant.zero,
                           Instant(milliseconds: 1_764_700_000_000), Instant(milliseconds: .max)]
    static let views = [PresenceView.offline, PresenceView(status: .offline, lastSeen: .zero),
                        PresenceView(status: .offline, lastSeen: Instant(milliseconds: .min)),
                        PresenceView(status: .idle), PresenceView(status: .mobile), PresenceView(status: .online),
                        PresenceView(status: .busy, lastSeen: Instant(milliseconds: .max))]
    static let users = [shortest, longest, nonASCII, plain]
    static let calls = [CallID(0), CallID(1), CallID(.max)]
    static let sessions = [SessionID(0), SessionID(slot: 0xFF_FFFF, generation: 0xFF_FFFF, shard: 255), SessionID(.max)]

    static let chats = [
        ChatMessage(id: MessageID(0), sender: shortest, recipient: longest, clientMessageID: "", body: "",
                    sentAt: Instant(milliseconds: .min)),
        ChatMessage(id: MessageID(.max), sender: nonASCII, recipient: plain, clientMessageID: "c-1",
                    body: longString, sentAt: Instant(milliseconds: .max)),
        ChatMessage(id: MessageID(42), sender: plain, recipient: nonASCII, clientMessageID: "日本",
                    body: "héllo wörld 👋🏽", sentAt: Instant(milliseconds: 1_764_700_000_000)),
    ]

    static let events: [Event] = {
        var events: [Event] = []
        events.append(.snapshot(Snapshot(chosenStatus: .online, contacts: [], incomingRequests: [], outgoingRequests: [])))
        events.append(.snapshot(Snapshot(
            chosenStatus: .hidden,
            contacts: (0..<1_000).map { ContactPresence(user: user("c\($0)@x.io"), view: views[$0 % views.count]) },
            incomingRequests: users, outgoingRequests: (0..<300).map { user("o\($0)@例え.jp") })))
        for status in ChosenStatus.allCases { events.append(.ownStatus(status)) }
        for (index, view) in views.enumerated() {
            events.append(.presence(users[index % users.count], view))
            events.append(.contactAdded(users[(index + 1) % users.count], view))
        }
        for user in users {
            events += [.contactRequestReceived(from: user), .contactRequestSent(to: user), .contactRemoved(user),
                       .subscriptionEnded(user)]
        }
        for chat in chats { events.append(.chat(chat)) }
        for (index, string) in strings.enumerated() {
            let call = calls[index % calls.count]
            events.append(.chatAccepted(ChatAck(clientMessageID: string, messageID: MessageID(.max),
                                                receipt: index.isMultiple(of: 2) ? .delivered : .stored)))
            events.append(.chatFailed(clientMessageID: string))
            events.append(.callIncoming(call, from: users[index % users.count], payload: string))
            events.append(.callAccepted(call, payload: string))
            events.append(.callSignal(call, payload: string))
        }
        for call in calls { events += [.callRinging(call), .callAnsweredElsewhere(call)] }
        for reason in allReasons { events.append(.callEnded(calls[2], reason)) }
        events.append(.subscriptionSnapshot([]))
        events.append(.subscriptionSnapshot(users.map { ContactPresence(user: $0, view: views[6]) }))
        return events
    }()

    static let allReasons: [CallEndReason] = [.declined, .cancelled, .noAnswer, .busy, .hungUp, .connectionLost,
                                              .contactRemoved]
    static let allChanges: [PairChange] = [.request, .accept, .decline, .remove]
    static let allStates: [ContactState?] = [nil, .accepted, .requestedByMe, .requestedByThem]

    static let messages: [ShardMessage] = {
        var messages: [ShardMessage] = []
        for (index, view) in views.enumerated() {
            messages.append(.published(subject: users[index % users.count], view: view, reveals: []))
        }
        messages.append(.published(subject: plain, view: views[3], reveals: (0..<1_000).map {
            RevealedView(observer: user("r\($0)@x.io"), view: views[$0 % views.count])
        }))
        for (index, event) in events.enumerated() {
            messages.append(.deliverToUser(event, user: users[index % users.count]))
            messages.append(.deliverToSession(event, session: sessions[index % sessions.count]))
        }
        for chat in chats { messages.append(.chat(chat)) }
        for (index, change) in allChanges.enumerated() {
            for state in allStates {
                messages.append(.pairRequest(change, actor: users[index], other: users[(index + 1) % users.count],
                                             seen: state))
            }
        }
        for state in allStates { messages.append(.pairSet(a: shortest, b: longest, state: state)) }
        for (index, view) in views.enumerated() {
            messages.append(.introduce(subject: users[index % users.count], observer: users[(index + 2) % users.count],
                                       view: view))
        }
        for shard in [0, 1, 63, 255] {
            messages.append(.watch(user: nonASCII, shard: shard, isWatching: true))
            messages.append(.watch(user: plain, shard: shard, isWatching: false))
        }
        for user in users { messages.append(.accountDeleted(user)) }
        for (index, payload) in strings.enumerated() {
            let call = calls[index % calls.count]
            let session = sessions[index % sessions.count]
            messages.append(.callInvite(call, caller: users[index % users.count], callerSession: session,
                                        callee: users[(index + 1) % users.count], payload: payload))
            messages.append(.callAnswered(call, calleeSession: session, payload: payload))
        }
        for call in calls { messages += [.callBusy(call), .callOffered(call), .callSilenced(call)] }
        messages.append(.callFinished(calls[0], reason: nil))
        for reason in allReasons { messages.append(.callFinished(calls[2], reason: reason)) }
        return messages
    }()
}

/// The case's name; exhaustive, so a new case fails to compile here until the tables
/// (and the wire format) know it.
func caseName(_ message: ShardMessage) -> String {
    switch message {
    case .published: "published"
    case .deliverToUser: "deliverToUser"
    case .deliverToSession: "deliverToSession"
    case .chat: "chat"
    case .pairRequest: "pairRequest"
    case .pairSet: "pairSet"
    case .introduce: "introduce"
    case .watch: "watch"
    case .accountDeleted: "accountDeleted"
    case .callInvite: "callInvite"
    case .callBusy: "callBusy"
    case .callOffered: "callOffered"
    case .callAnswered: "callAnswered"
    case .callSilenced: "callSilenced"
    case .callFinished: "callFinished"
    }
}

func caseName(_ event: Event) -> String {
    switch event {
    case .snapshot: "snapshot"
    case .ownStatus: "ownStatus"
    case .presence: "presence"
    case .contactRequestReceived: "contactRequestReceived"
    case .contactRequestSent: "contactRequestSent"
    case .contactAdded: "contactAdded"
    case .contactRemoved: "contactRemoved"
    case .chat: "chat"
    case .chatAccepted: "chatAccepted"
    case .chatFailed: "chatFailed"
    case .callIncoming: "callIncoming"
    case .callRinging: "callRinging"
    case .callAccepted: "callAccepted"
    case .callAnsweredElsewhere: "callAnsweredElsewhere"
    case .callSignal: "callSignal"
    case .callEnded: "callEnded"
    case .subscriptionSnapshot: "subscriptionSnapshot"
    case .subscriptionEnded: "subscriptionEnded"
    }
}

/// The wire's tag for each case, as Protocol/cluster.md lists them.
let messageTags: [String: UInt8] = [
    "published": 1, "deliverToUser": 2, "deliverToSession": 3, "chat": 4, "pairRequest": 5, "pairSet": 6,
    "introduce": 7, "watch": 8, "accountDeleted": 9, "callInvite": 10, "callBusy": 11, "callOffered": 12,
    "callAnswered": 13, "callSilenced": 14, "callFinished": 15,
]
let eventTags: [String: UInt8] = [
    "snapshot": 1, "ownStatus": 2, "presence": 3, "contactRequestReceived": 4, "contactRequestSent": 5,
    "contactAdded": 6, "contactRemoved": 7, "chat": 8, "chatAccepted": 9, "chatFailed": 10, "callIncoming": 11,
    "callRinging": 12, "callAccepted": 13, "callAnsweredElsewhere": 14, "callSignal": 15, "callEnded": 16,
    "subscriptionSnapshot": 17, "subscriptionEnded": 18,
]

/// SplitMix64: the same numbers on every run and platform, so a failure names its seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random messages over every case, with random strings (ASCII, accented, CJK, emoji,
/// control characters), addresses (some with capitals and non-ASCII, normalized by
/// `UserID`), integers across their whole range and arrays from empty to a few hundred.
struct MessageGenerator {
    var random: SeededGenerator

    init(seed: UInt64) { random = SeededGenerator(seed: seed) }

    private static let alphabets: [[Unicode.Scalar]] = [
        Array("abcdefghijklmnopqrstuvwxyz0123456789.-_+".unicodeScalars),
        Array("ÀÉÎØÜàéîøüßñçÆæŒœΣσςΔδЖжЯя".unicodeScalars),
        Array("日本語中文한국어例え".unicodeScalars),
        Array("👋🏽🎉🧑‍💻\u{0}\u{1}\u{7F}\u{FEFF}\u{10FFFF}\u{E000}".unicodeScalars),
    ]

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }
    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &random) < p }
    mutating func uint64() -> UInt64 {
        // Small, large and extreme values all matter for fixed widths and varints alike.
        switch int(0...3) {
        case 0: UInt64(int(0...300))
        case 1: .max - UInt64(int(0...3))
        default: random.next()
        }
    }

    mutating func string(maxLength: Int = 24) -> String {
        let length = chance(0.02) ? int(200...5_000) : int(0...maxLength)
        var scalars = String.UnicodeScalarView()
        for _ in 0..<length {
            let alphabet = Self.alphabets[chance(0.7) ? 0 : int(1...3)]
            scalars.append(alphabet[int(0...alphabet.count - 1)])
        }
        return String(scalars)
    }

    mutating func userID() -> UserID {
        while true {
            var local = String(Self.alphabets[0].randomElement(using: &random)!)
            for _ in 0..<int(0...12) {
                let alphabet = Self.alphabets[chance(0.85) ? 0 : int(1...2)]
                local.unicodeScalars.append(alphabet[int(0...alphabet.count - 1)])
            }
            if chance(0.1) { local = local.uppercased() }
            let domain = ["x.io", "example.org", "例え.jp", "b"][int(0...3)]
            if let id = UserID(email: local + "@" + domain) { return id }
        }
    }

    mutating func instant() -> Instant { Instant(milliseconds: Int64(bitPattern: uint64())) }

    mutating func view() -> PresenceView {
        PresenceView(status: PresenceStatus.allCases.randomElement(using: &random)!,
                     lastSeen: chance(0.5) ? instant() : nil)
    }

    mutating func count() -> Int { chance(0.05) ? int(50...400) : int(0...4) }

    mutating func users() -> [UserID] { (0..<count()).map { _ in userID() } }

    mutating func contactPresences() -> [ContactPresence] {
        (0..<count()).map { _ in ContactPresence(user: userID(), view: view()) }
    }

    mutating func chat() -> ChatMessage {
        ChatMessage(id: MessageID(uint64()), sender: userID(), recipient: userID(), clientMessageID: string(),
                    body: string(maxLength: 200), sentAt: instant())
    }

    mutating func event() -> Event {
        switch int(1...18) {
        case 1: .snapshot(Snapshot(chosenStatus: ChosenStatus.allCases.randomElement(using: &random)!,
                                   contacts: contactPresences(), incomingRequests: users(), outgoingRequests: users()))
        case 2: .ownStatus(ChosenStatus.allCases.randomElement(using: &random)!)
        case 3: .presence(userID(), view())
        case 4: .contactRequestReceived(from: userID())
        case 5: .contactRequestSent(to: userID())
        case 6: .contactAdded(userID(), view())
        case 7: .contactRemoved(userID())
        case 8: .chat(chat())
        case 9: .chatAccepted(ChatAck(clientMessageID: string(), messageID: MessageID(uint64()),
                                      receipt: chance(0.5) ? .delivered : .stored))
        case 10: .chatFailed(clientMessageID: string())
        case 11: .callIncoming(CallID(uint64()), from: userID(), payload: string(maxLength: 300))
        case 12: .callRinging(CallID(uint64()))
        case 13: .callAccepted(CallID(uint64()), payload: string(maxLength: 300))
        case 14: .callAnsweredElsewhere(CallID(uint64()))
        case 15: .callSignal(CallID(uint64()), payload: string(maxLength: 300))
        case 16: .callEnded(CallID(uint64()), Edge.allReasons.randomElement(using: &random)!)
        case 17: .subscriptionSnapshot(contactPresences())
        default: .subscriptionEnded(userID())
        }
    }

    mutating func message() -> ShardMessage {
        switch int(1...15) {
        case 1: .published(subject: userID(), view: view(),
                           reveals: (0..<count()).map { _ in RevealedView(observer: userID(), view: view()) })
        case 2: .deliverToUser(event(), user: userID())
        case 3: .deliverToSession(event(), session: SessionID(uint64()))
        case 4: .chat(chat())
        case 5: .pairRequest(Edge.allChanges.randomElement(using: &random)!, actor: userID(), other: userID(),
                             seen: Edge.allStates.randomElement(using: &random)!)
        case 6: .pairSet(a: userID(), b: userID(), state: Edge.allStates.randomElement(using: &random)!)
        case 7: .introduce(subject: userID(), observer: userID(), view: view())
        case 8: .watch(user: userID(), shard: int(0...255), isWatching: chance(0.5))
        case 9: .accountDeleted(userID())
        case 10: .callInvite(CallID(uint64()), caller: userID(), callerSession: SessionID(uint64()), callee: userID(),
                             payload: string(maxLength: 300))
        case 11: .callBusy(CallID(uint64()))
        case 12: .callOffered(CallID(uint64()))
        case 13: .callAnswered(CallID(uint64()), calleeSession: SessionID(uint64()), payload: string(maxLength: 300))
        case 14: .callSilenced(CallID(uint64()))
        default: .callFinished(CallID(uint64()), reason: chance(0.3) ? nil : Edge.allReasons.randomElement(using: &random)!)
        }
    }
}

/// A batch with a header whose fields are all distinct and far from zero.
func sampleHeader(sequence: UInt64 = 0x0102_0304_0506_0708) -> BatchHeader {
    BatchHeader(sourceNode: 0x1112_1314_1516_1718, sourceShard: 0x21, destinationNode: 0x3132_3334_3536_3738,
                destinationShard: 0x41, sequence: sequence)
}

func encoded(_ batch: ShardBatch) -> [UInt8] {
    var bytes: [UInt8] = []
    ClusterWire.encodeBatch(batch, into: &bytes)
    return bytes
}

func encoded(_ message: ShardMessage) -> [UInt8] {
    var bytes: [UInt8] = []
    ClusterWire.encode(message, into: &bytes)
    return bytes
}

/// Decodes, returning the error instead of throwing it, so tests can compare outcomes.
func decodeOutcome(_ bytes: [UInt8]) -> Result<ShardBatch, ClusterWireError> {
    Result { () throws(ClusterWireError) in try ClusterWire.decodeBatch(bytes) }
}
