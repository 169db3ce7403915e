import Foundation
import Presence
import Testing
@testable import Gateway

@Suite struct WireEventEncoderTests {
    static let ann = user("ann@x.org")
    static let bob = user("bob@x.org")
    static let message = ChatMessage(id: MessageID(12), sender: ann, recipient: bob, clientMessageID: "c\"1",
                                     body: "hé \"there\"\n🎉", sentAt: Instant(milliseconds: 1_700_000_000_123))

    /// Every `Event` case, with the members its JSON must carry (besides `seq`).
    /// `nonisolated(unsafe)`: `AnyHashable` is not `Sendable`, but this table is a constant
    /// that no test mutates.
    nonisolated(unsafe) static let events: [(Event, [String: AnyHashable])] = [
        (.snapshot(Snapshot(chosenStatus: .busy,
                            contacts: [ContactPresence(user: bob, view: PresenceView(status: .online))],
                            incomingRequests: [user("c@x.org")], outgoingRequests: [])),
         ["type": "snapshot", "status": "busy"]),
        (.ownStatus(.hidden), ["type": "ownStatus", "status": "hidden"]),
        (.presence(bob, PresenceView(status: .offline, lastSeen: Instant(milliseconds: 99))),
         ["type": "presence", "user": "bob@x.org", "status": "offline", "lastSeen": 99]),
        (.presence(bob, PresenceView(status: .mobile)), ["type": "presence", "user": "bob@x.org", "status": "mobile"]),
        (.contactRequestReceived(from: ann), ["type": "contactRequest", "from": "ann@x.org"]),
        (.contactRequestSent(to: bob), ["type": "contactRequestSent", "to": "bob@x.org"]),
        (.contactAdded(bob, PresenceView(status: .idle)), ["type": "contactAdded", "user": "bob@x.org", "status": "idle"]),
        (.contactRemoved(bob), ["type": "contactRemoved", "user": "bob@x.org"]),
        (.chat(message), ["type": "chat", "messageId": 12, "from": "ann@x.org", "to": "bob@x.org",
                          "clientMessageId": "c\"1", "body": "hé \"there\"\n🎉", "sentAt": 1_700_000_000_123]),
        (.chatAccepted(ChatAck(clientMessageID: "c1", messageID: MessageID(12), receipt: .stored)),
         ["type": "chatAccepted", "clientMessageId": "c1", "messageId": 12, "receipt": "stored"]),
        (.chatFailed(clientMessageID: "c1"), ["type": "chatFailed", "clientMessageId": "c1"]),
        (.callIncoming(CallID(4), from: ann, payload: #"{"sdp":"v=0"}"#), ["type": "callIncoming", "call": 4, "from": "ann@x.org"]),
        (.callIncoming(CallID(4), from: ann, payload: ""), ["type": "callIncoming", "call": 4, "from": "ann@x.org"]),
        (.callRinging(CallID(4)), ["type": "callRinging", "call": 4]),
        (.callAccepted(CallID(4), payload: #""answer""#), ["type": "callAccepted", "call": 4, "payload": "answer"]),
        (.callAnsweredElsewhere(CallID(4)), ["type": "callAnsweredElsewhere", "call": 4]),
        (.callSignal(CallID(4), payload: #"{"candidate":"x"}"#), ["type": "callSignal", "call": 4]),
        (.callEnded(CallID(4), .noAnswer), ["type": "callEnded", "call": 4, "reason": "noAnswer"]),
        (.subscriptionSnapshot([ContactPresence(user: ann, view: .offline)]), ["type": "subscriptionSnapshot"]),
        (.subscriptionEnded(ann), ["type": "subscriptionEnded", "user": "ann@x.org"]),
    ]

    @Test(arguments: events.indices)
    func everyEventEncodesToJSONFoundationReadsBack(_ index: Int) throws {
        let (event, expected) = Self.events[index]
        let object = try foundationObject(EventEncoder.encodeEvent(event, seq: 7))
        #expect(object["seq"] as? Int == 7)
        for (key, value) in expected {
            #expect(object[key] as? AnyHashable == value, "\(key) of \(event)")
        }
        #expect(object["type"] as? String == EventEncoder.typeName(of: event))
    }

    @Test func everyEventCaseIsCovered() {
        let names = Set(Self.events.map { EventEncoder.typeName(of: $0.0) })
        #expect(names.count == 18)
    }

    @Test(arguments: [UInt64(0), 1, 9, 10, 99, 100, 128, 1_000_000, UInt64.max])
    func prefixPlusBodyIsOneJSONObject(_ seq: UInt64) throws {
        let body = EventEncoder.encodeEventBody(.presence(Self.bob, PresenceView(status: .online)))
        var frame: [UInt8] = []
        EventEncoder.eventPrefix(seq: seq, into: &frame)
        frame += body
        let object = try foundationObject(frame)
        #expect(object["type"] as? String == "presence")
        // Foundation reads UInt64.max as a number; compare its text to be exact.
        #expect(String(decoding: frame.prefix(while: { $0 != UInt8(ascii: ",") }), as: UTF8.self) == "{\"seq\":\(seq)")
        if case .object(let members) = try JSONParser.parse(frame) {
            #expect(members.first?.key == "seq")
            #expect(members.first?.value == .number(String(seq)))
        } else {
            Issue.record("not an object")
        }
    }

    @Test func theBodyHasNoOpeningBraceAndStartsWithType() {
        let body = EventEncoder.encodeEventBody(.ownStatus(.online))
        #expect(String(decoding: body, as: UTF8.self) == #""type":"ownStatus","status":"online"}"#)
    }

    @Test func snapshotListsContactsWithPresenceAndPendingRequests() throws {
        let object = try foundationObject(EventEncoder.encodeEvent(Self.events[0].0, seq: 1))
        let contacts = try #require(object["contacts"] as? [[String: Any]])
        #expect(contacts.count == 1)
        #expect(contacts[0]["user"] as? String == "bob@x.org")
        #expect(contacts[0]["status"] as? String == "online")
        #expect(contacts[0]["lastSeen"] == nil)
        #expect(object["incoming"] as? [String] == ["c@x.org"])
        #expect(object["outgoing"] as? [String] == [])
    }

    @Test func objectPayloadsPassThroughAsObjects() throws {
        let object = try foundationObject(EventEncoder.encodeEvent(.callSignal(CallID(1), payload: #"{"candidate":"a","n":[1,2]}"#), seq: 3))
        let payload = try #require(object["payload"] as? [String: Any])
        #expect(payload["candidate"] as? String == "a")
    }

    @Test func payloadTextThatIsNotJSONGoesOutAsAStringAndCannotBreakTheFrame() throws {
        let hostile = #"x","type":"evil"#
        let object = try foundationObject(EventEncoder.encodeEvent(.callSignal(CallID(1), payload: hostile), seq: 3))
        #expect(object["payload"] as? String == hostile)
        #expect(object["type"] as? String == "callSignal")
    }

    @Test func aDecodedPayloadReachesThePeerAsTheSameJSONValue() throws {
        let sent = #"{"id":"1","op":"signal","call":2,"payload":{"sdp":"v=0\r\no=- 1","ok":true}}"#
        guard case .command(.signal(_, let call, let payload)) = try op(sent) else { Issue.record("not a signal"); return }
        let received = try foundationObject(EventEncoder.encodeEvent(.callSignal(call, payload: payload), seq: 1))
        let original = try foundationObject(Array(sent.utf8))
        #expect(NSDictionary(dictionary: received["payload"] as! [String: Any]) == NSDictionary(dictionary: original["payload"] as! [String: Any]))
    }
}
