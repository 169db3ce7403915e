import Foundation
import Presence
import Testing
import WebSocket
@testable import Gateway

/// The transcripts in `Protocol/examples/` are the protocol's worked examples and the
/// end-to-end replay scripts; these tests hold them to the codec without a server: every
/// `send` decodes (or is refused with the code the transcript expects next), and every
/// `expect` has exactly the members the encoder writes for that message.
@Suite struct WireExamplesTests {
    static let files: [String] = {
        let directory = protocolDirectory.appendingPathComponent("examples")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted()
    }()

    @Test func thereAreTranscripts() {
        #expect(Self.files.count >= 7)
    }

    @Test(arguments: files)
    func everyMessageInTheTranscriptMatchesTheCodec(_ file: String) throws {
        let data = try Data(contentsOf: protocolDirectory.appendingPathComponent("examples").appendingPathComponent(file))
        let steps = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        var opByRequestID: [String: String] = [:]
        for (index, step) in steps.enumerated() {
            let place = "\(file) step \(index + 1)"
            let client = step["client"] as? String
            if let message = step["send"] as? [String: Any] {
                let text = try JSONSerialization.data(withJSONObject: Self.filled(message) as Any)
                let outcome = Result { () throws(RejectedRequest) in try ClientOpDecoder().decode(Array(text), from: decodingSession) }
                switch outcome {
                case .success(let request): opByRequestID[request.id] = message["op"] as? String
                case .failure(let rejected):
                    let next = Self.nextExpect(after: index, for: client, in: steps)
                    #expect(next?["type"] as? String == "error" && next?["code"] as? String == rejected.reply.code,
                            "\(place): refused with \(rejected.reply.code), transcript expects \(String(describing: next))")
                }
            } else if let text = step["sendText"] as? String {
                let outcome = Result { () throws(RejectedRequest) in try ClientOpDecoder().decode(Array(text.utf8), from: decodingSession) }
                guard case .failure(let rejected) = outcome else { Issue.record("\(place): raw text decoded"); continue }
                #expect(Self.nextExpect(after: index, for: client, in: steps)?["code"] as? String == rejected.reply.code, "\(place)")
            } else if step["sendBinary"] != nil {
                #expect(Self.nextExpect(after: index, for: client, in: steps)?["code"] as? String
                    == ClientOpDecoder.binaryFrameRejection.reply.code, "\(place)")
            } else if let message = step["expect"] as? [String: Any] {
                try Self.checkExpected(message, opByRequestID: opByRequestID, place: place)
            }
        }
    }

    // MARK: - Expected messages against the encoder

    static func checkExpected(_ message: [String: Any], opByRequestID: [String: String], place: String) throws {
        let keys = Set(message.keys)
        let type = message["type"] as? String ?? ""
        let shape: MemberShape
        if keys.contains("seq") {
            shape = try #require(eventShapes[type], "\(place): unknown event type \(type)")
        } else if type == "hello" {
            shape = try MemberShape(ServerHello(server: "x").encoded())
        } else if type == "closing" {
            let code = try #require(GatewayCloseCode(rawValue: UInt16(message["code"] as? Int ?? 0)), "\(place)")
            #expect(message["reason"] as? String == code.reason, "\(place)")
            #expect(message["advice"] as? String == code.advice.rawValue, "\(place)")
            shape = try MemberShape(ReplyEncoder.closing(code))
        } else if type == "error" {
            shape = MemberShape(required: ["type", "id", "code", "message"], optional: ["field", "retryAfter"])
        } else {
            let op = (message["id"] as? String).flatMap { opByRequestID[$0] } ?? ""
            shape = try #require(replyShapes[op] ?? replyShapes["ok"], "\(place)")
        }
        #expect(shape.required.isSubset(of: keys), "\(place): missing \(shape.required.subtracting(keys))")
        #expect(keys.isSubset(of: shape.required.union(shape.optional)), "\(place): extra \(keys.subtracting(shape.required.union(shape.optional)))")
    }

    /// The members a message must have and may have.
    struct MemberShape {
        var required: Set<String>
        var optional: Set<String> = []

        init(required: Set<String>, optional: Set<String> = []) {
            self.required = required
            self.optional = optional
        }

        /// The members of one encoded sample, all required.
        init(_ bytes: [UInt8]) throws {
            required = Set(try foundationObject(bytes).keys)
        }

        /// Members in every sample are required; the rest are optional.
        init(samples: [[UInt8]]) throws {
            let sets = try samples.map { Set(try foundationObject($0).keys) }
            required = sets.dropFirst().reduce(sets[0]) { $0.intersection($1) }
            optional = sets.reduce(Set()) { $0.union($1) }.subtracting(required)
        }
    }

    static let eventShapes: [String: MemberShape] = {
        var samples: [String: [[UInt8]]] = [:]
        for (event, _) in WireEventEncoderTests.events {
            samples[EventEncoder.typeName(of: event), default: []].append(EventEncoder.encodeEvent(event, seq: 1))
        }
        // Optional members the table's samples may not all show.
        samples["contactAdded", default: []].append(EventEncoder.encodeEvent(
            .contactAdded(user("a@x.org"), PresenceView(status: .offline, lastSeen: Instant(milliseconds: 1))), seq: 1))
        samples["callAccepted", default: []].append(EventEncoder.encodeEvent(.callAccepted(CallID(1), payload: ""), seq: 1))
        return samples.mapValues { try! MemberShape(samples: $0) }
    }()

    static let replyShapes: [String: MemberShape] = {
        let token = ResumeToken(session: SessionID(1), secret: Array(repeating: 0, count: 16))
        let profile = WireProfile(id: "a@x.org", firstName: "A", lastName: "B", offlineEmail: false)
        let user = { (deviceToken: String?) in
            ReplyEncoder.signIn(id: "1", SignInReply(session: SessionID(1), resumeToken: token,
                                                     principal: .user(profile, device: .web, deviceToken: deviceToken)))
        }
        let subscriber = ReplyEncoder.signIn(id: "1", SignInReply(session: SessionID(1), resumeToken: token,
                                                                  principal: .subscriber(name: "d", allowed: [])))
        var shapes: [String: MemberShape] = [
            "ok": try! MemberShape(ReplyEncoder.ok(id: "1")),
            "resume": try! MemberShape(ReplyEncoder.resume(id: "1", session: SessionID(1))),
            "invite": try! MemberShape(ReplyEncoder.invite(id: "1", call: CallID(1))),
            "send": try! MemberShape(ReplyEncoder.chatAccepted(id: "1", ChatAck(clientMessageID: "c1", messageID: MessageID(12), receipt: .stored))),
            "history": try! MemberShape(ReplyEncoder.history(id: "1", HistoryPage(messages: [], hasMore: false))),
            "updateProfile": try! MemberShape(ReplyEncoder.profile(id: "1", profile)),
        ]
        // A sign-in reply is a user's (deviceToken optional) or a subscriber's.
        let userShape = try! MemberShape(samples: [user(nil), user("t")])
        let subscriberShape = try! MemberShape(subscriber)
        shapes["signIn"] = MemberShape(required: userShape.required.intersection(subscriberShape.required),
                                       optional: userShape.required.union(userShape.optional)
                                           .union(subscriberShape.required)
                                           .subtracting(userShape.required.intersection(subscriberShape.required)))
        return shapes
    }()

    // MARK: - Transcript helpers

    static func nextExpect(after index: Int, for client: String?, in steps: [[String: Any]]) -> [String: Any]? {
        steps[(index + 1)...].first { $0["client"] as? String == client && $0["expect"] != nil }?["expect"] as? [String: Any]
    }

    /// Replaces placeholders by sample values of the type their member needs.
    static func filled(_ value: Any, key: String? = nil) -> Any {
        switch value {
        case let object as [String: Any]:
            return object.reduce(into: [String: Any]()) { $0[$1.key] = filled($1.value, key: $1.key) }
        case let array as [Any]:
            return array.map { filled($0, key: key) }
        case let text as String where text.hasPrefix("$"):
            switch key {
            case "lastSeq", "call", "before", "seq", "messageId": return 1
            case "resumeToken": return "1." + String(repeating: "0", count: 32)
            default: return "sample"
            }
        default:
            return value
        }
    }
}
