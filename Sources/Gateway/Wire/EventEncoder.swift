import Presence

/// Encodes server events: `{"seq":N,"type":"<event>",…}`.
///
/// An event goes to many sessions, each with its own sequence, so it is encoded in two
/// parts: `encodeEventBody` once per event (everything after the opening brace and the
/// `seq` member), and `eventPrefix` per recipient (`{"seq":N,`). The runtime writes the
/// prefix and then the shared body; together they are one JSON object. The body always
/// starts with `"type"`, so the prefix's trailing comma is always right.
public enum EventEncoder {
    /// The event as JSON, without its opening brace and without `seq`; it ends with `}`.
    /// - Parameter wallOffset: added to every timestamp (`lastSeen`, `sentAt`): the core
    ///   keeps monotonic instants, the wire carries wall-clock time (`WallTimeMapping`).
    public static func encodeEventBody(_ event: Event, wallOffset: Int64 = 0) -> [UInt8] {
        var json = JSONWriter(capacity: 128)
        switch event {
        case .snapshot(let snapshot):
            json.key("type"); json.string("snapshot")
            json.key("status"); json.string(snapshot.chosenStatus.wireName)
            json.key("contacts"); writePresenceList(snapshot.contacts, wallOffset: wallOffset, into: &json)
            json.key("incoming"); writeUsers(snapshot.incomingRequests, into: &json)
            json.key("outgoing"); writeUsers(snapshot.outgoingRequests, into: &json)
        case .ownStatus(let status):
            json.key("type"); json.string("ownStatus")
            json.key("status"); json.string(status.wireName)
        case .presence(let user, let view):
            json.key("type"); json.string("presence")
            json.key("user"); json.string(user.email)
            writeView(view, wallOffset: wallOffset, into: &json)
        case .contactRequestReceived(let from):
            json.key("type"); json.string("contactRequest")
            json.key("from"); json.string(from.email)
        case .contactRequestSent(let to):
            json.key("type"); json.string("contactRequestSent")
            json.key("to"); json.string(to.email)
        case .contactAdded(let user, let view):
            json.key("type"); json.string("contactAdded")
            json.key("user"); json.string(user.email)
            writeView(view, wallOffset: wallOffset, into: &json)
        case .contactRemoved(let user):
            json.key("type"); json.string("contactRemoved")
            json.key("user"); json.string(user.email)
        case .chat(let message):
            json.key("type"); json.string("chat")
            writeMessageFields(message, wallOffset: wallOffset, into: &json)
        case .chatAccepted(let ack):
            json.key("type"); json.string("chatAccepted")
            json.key("clientMessageId"); json.string(ack.clientMessageID)
            json.key("messageId"); json.number(ack.messageID.rawValue)
            json.key("receipt"); json.string(ack.receipt.wireName)
        case .chatFailed(let clientMessageID):
            json.key("type"); json.string("chatFailed")
            json.key("clientMessageId"); json.string(clientMessageID)
        case .callIncoming(let call, let from, let payload):
            json.key("type"); json.string("callIncoming")
            json.key("call"); json.number(call.rawValue)
            json.key("from"); json.string(from.email)
            writePayload(payload, into: &json)
        case .callRinging(let call):
            json.key("type"); json.string("callRinging")
            json.key("call"); json.number(call.rawValue)
        case .callAccepted(let call, let payload):
            json.key("type"); json.string("callAccepted")
            json.key("call"); json.number(call.rawValue)
            writePayload(payload, into: &json)
        case .callAnsweredElsewhere(let call):
            json.key("type"); json.string("callAnsweredElsewhere")
            json.key("call"); json.number(call.rawValue)
        case .callSignal(let call, let payload):
            json.key("type"); json.string("callSignal")
            json.key("call"); json.number(call.rawValue)
            writePayload(payload, into: &json)
        case .callEnded(let call, let reason):
            json.key("type"); json.string("callEnded")
            json.key("call"); json.number(call.rawValue)
            json.key("reason"); json.string(reason.wireName)
        case .subscriptionSnapshot(let users):
            json.key("type"); json.string("subscriptionSnapshot")
            json.key("users"); writePresenceList(users, wallOffset: wallOffset, into: &json)
        case .subscriptionEnded(let user):
            json.key("type"); json.string("subscriptionEnded")
            json.key("user"); json.string(user.email)
        }
        json.endObject()
        return json.bytes
    }

    /// Appends `{"seq":N,` for one recipient.
    ///
    /// Once per fan-out delivery, on the loop's thread: the prefix is put together on the
    /// stack and appended in one copy (three appends of a shared prefix array, the digits
    /// and the comma cost ~3% of the pinned server's time, loadtest/README.md, "Pinned
    /// fan-out, 3 December (second session)").
    public static func eventPrefix(seq: UInt64, into buffer: inout [UInt8]) {
        // `{"seq":` (7 bytes), at most 20 digits, `,`.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 28) { out in
            var end = 28
            end -= 1
            out[end] = UInt8(ascii: ",")
            var remaining = seq
            repeat {
                end -= 1
                out[end] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: remaining % 10)
                remaining /= 10
            } while remaining > 0
            end -= 7
            out[end] = UInt8(ascii: "{")
            out[end + 1] = UInt8(ascii: "\"")
            out[end + 2] = UInt8(ascii: "s")
            out[end + 3] = UInt8(ascii: "e")
            out[end + 4] = UInt8(ascii: "q")
            out[end + 5] = UInt8(ascii: "\"")
            out[end + 6] = UInt8(ascii: ":")
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: out[end...]))
        }
    }

    /// The whole event for one recipient: prefix and body in one array. For replays and
    /// tests; fan-out should reuse one body.
    public static func encodeEvent(_ event: Event, seq: UInt64) -> [UInt8] {
        let body = encodeEventBody(event)
        var frame: [UInt8] = []
        frame.reserveCapacity(body.count + 32)
        eventPrefix(seq: seq, into: &frame)
        frame.append(contentsOf: body)
        return frame
    }

    /// The wire name of each event (the `type` member), for logs and metrics labels.
    public static func typeName(of event: Event) -> String {
        switch event {
        case .snapshot: "snapshot"
        case .ownStatus: "ownStatus"
        case .presence: "presence"
        case .contactRequestReceived: "contactRequest"
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


    // MARK: - Shared shapes

    /// `"status":…` and, only while offline and known, `"lastSeen":ms`.
    static func writeView(_ view: PresenceView, wallOffset: Int64 = 0, into json: inout JSONWriter) {
        json.key("status"); json.string(view.status.wireName)
        if let lastSeen = view.lastSeen {
            json.key("lastSeen"); json.number(lastSeen.milliseconds &+ wallOffset)
        }
    }

    static func writePresenceList(_ list: [ContactPresence], wallOffset: Int64 = 0, into json: inout JSONWriter) {
        json.beginArray()
        for entry in list {
            json.beginObject()
            json.key("user"); json.string(entry.user.email)
            writeView(entry.view, wallOffset: wallOffset, into: &json)
            json.endObject()
        }
        json.endArray()
    }

    static func writeUsers(_ users: [UserID], into json: inout JSONWriter) {
        json.beginArray()
        for user in users { json.string(user.email) }
        json.endArray()
    }

    /// The members of a chat message, shared by the `chat` event and `history` pages.
    static func writeMessageFields(_ message: ChatMessage, wallOffset: Int64 = 0, into json: inout JSONWriter) {
        json.key("messageId"); json.number(message.id.rawValue)
        json.key("from"); json.string(message.sender.email)
        json.key("to"); json.string(message.recipient.email)
        json.key("clientMessageId"); json.string(message.clientMessageID)
        json.key("body"); json.string(message.body)
        json.key("sentAt"); json.number(message.sentAt.milliseconds &+ wallOffset)
    }

    /// A call payload is the compact JSON text the decoder produced from the client's
    /// string or object (the `invite`, `accept` and `signal` ops), so it is written as it is and the
    /// other party receives exactly the JSON value that was sent. "" means none.
    ///
    /// The text is re-checked before it is spliced in: call events go to one or two
    /// sessions (not a fan-out), and a payload that did not come through the decoder (a
    /// test, a future caller) must not be able to break the frame. Such text goes out as
    /// a JSON string instead.
    static func writePayload(_ payload: String, into json: inout JSONWriter) {
        guard !payload.isEmpty else { return }
        json.key("payload")
        var text = payload
        let isPayloadJSON = text.withUTF8 { utf8 -> Bool in
            switch try? JSONParser.parse(UnsafeRawBufferPointer(utf8)) {
            case .string?, .object?: true
            default: false
            }
        }
        if isPayloadJSON { json.rawValue(payload) } else { json.string(payload) }
    }
}
