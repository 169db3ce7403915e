import Presence
import Testing
@testable import Gateway

@Suite struct WireClientOpDecoderTests {
    /// One valid message per op (and per sign-in method), with what it must decode to.
    static let validOps: [(String, ClientOp)] = [
        (#"{"op":"signIn","id":"1","method":"password","email":"Ann@Example.org","password":"pw","device":"desktop","staySignedIn":true}"#,
         .signIn(.password(email: "Ann@Example.org", password: "pw", device: .desktop, staySignedIn: true))),
        (#"{"op":"signIn","id":"1","method":"password","email":"a@x.org","password":"pw","device":"web"}"#,
         .signIn(.password(email: "a@x.org", password: "pw", device: .web, staySignedIn: false))),
        (#"{"op":"signIn","id":"1","method":"token","deviceToken":"tok"}"#, .signIn(.deviceToken("tok", device: nil))),
        (#"{"op":"signIn","id":"1","method":"token","deviceToken":"tok","device":"mobile"}"#,
         .signIn(.deviceToken("tok", device: .mobile))),
        (#"{"op":"signIn","id":"1","method":"google","idToken":"jwt","device":"mobile","staySignedIn":false}"#,
         .signIn(.google(idToken: "jwt", device: .mobile, staySignedIn: false))),
        (#"{"op":"signIn","id":"1","method":"subscriber","key":"k"}"#, .signIn(.subscriber(key: "k"))),
        (#"{"op":"resume","id":"1","resumeToken":"7.00","lastSeq":0}"#, .resume(resumeToken: "7.00", lastSeq: 0)),
        (#"{"op":"logOut","id":"1"}"#, .logOut),
        (#"{"op":"setStatus","id":"1","status":"hidden"}"#, .setStatus(.hidden)),
        (#"{"op":"activity","id":"1"}"#, .activity),
        (#"{"op":"heartbeat","id":"1","lastSeq":9007199254740991}"#, .heartbeat(lastSeq: 9_007_199_254_740_991)),
        (#"{"op":"requestContact","id":"1","user":" B@X.org "}"#, .requestContact(user("b@x.org"))),
        (#"{"op":"acceptContact","id":"1","user":"b@x.org"}"#, .acceptContact(user("b@x.org"))),
        (#"{"op":"declineContact","id":"1","user":"b@x.org"}"#, .declineContact(user("b@x.org"))),
        (#"{"op":"removeContact","id":"1","user":"b@x.org"}"#, .removeContact(user("b@x.org"))),
        (#"{"op":"send","id":"1","to":"b@x.org","clientMessageId":"m1","body":"hi \"you\" 🎉"}"#,
         .send(to: user("b@x.org"), clientMessageID: "m1", body: "hi \"you\" 🎉")),
        (#"{"op":"history","id":"1","with":"b@x.org"}"#, .history(with: user("b@x.org"), before: nil, limit: 50)),
        (#"{"op":"history","id":"1","with":"b@x.org","before":42,"limit":100}"#,
         .history(with: user("b@x.org"), before: MessageID(42), limit: 100)),
        (#"{"op":"invite","id":"1","to":"b@x.org"}"#, .invite(to: user("b@x.org"), payload: "")),
        (#"{"op":"invite","id":"1","to":"b@x.org","payload":{"type":"offer", "sdp":"v=0"}}"#,
         .invite(to: user("b@x.org"), payload: #"{"type":"offer","sdp":"v=0"}"#)),
        (#"{"op":"ringing","id":"1","call":3}"#, .ringing(CallID(3))),
        (#"{"op":"accept","id":"1","call":3,"payload":"answer"}"#, .accept(CallID(3), payload: #""answer""#)),
        (#"{"op":"decline","id":"1","call":3}"#, .decline(CallID(3))),
        (#"{"op":"cancel","id":"1","call":3}"#, .cancel(CallID(3))),
        (#"{"op":"hangUp","id":"1","call":3}"#, .hangUp(CallID(3))),
        (#"{"op":"signal","id":"1","call":3,"payload":{"candidate":"a=1"}}"#, .signal(CallID(3), payload: #"{"candidate":"a=1"}"#)),
        (#"{"op":"subscribe","id":"1","users":["a@x.org","b@x.org"]}"#, .subscribe([user("a@x.org"), user("b@x.org")])),
        (#"{"op":"unsubscribe","id":"1","users":["a@x.org"]}"#, .unsubscribe([user("a@x.org")])),
        (#"{"op":"updateProfile","id":"1","firstName":"Ann","offlineEmail":true}"#,
         .updateProfile(ProfileChanges(firstName: "Ann", lastName: nil, offlineEmail: true))),
        (#"{"op":"changePassword","id":"1","currentPassword":"old","newPassword":"New-pass-123"}"#,
         .changePassword(currentPassword: "old", newPassword: "New-pass-123")),
        (#"{"op":"deleteAccount","id":"1","password":"pw"}"#, .deleteAccount(password: "pw")),
    ]

    @Test(arguments: validOps.indices)
    func everyOpDecodesFromValidJSON(_ index: Int) throws {
        let (text, expected) = Self.validOps[index]
        #expect(try op(text) == expected)
    }

    @Test func everyOpNameHasAValidExample() {
        let covered = Set(Self.validOps.map(\.1.name))
        let all: Set = ["signIn", "resume", "logOut", "setStatus", "activity", "heartbeat", "requestContact",
                        "acceptContact", "declineContact", "removeContact", "send", "history", "invite", "ringing",
                        "accept", "decline", "cancel", "hangUp", "signal", "subscribe", "unsubscribe",
                        "updateProfile", "changePassword", "deleteAccount"]
        #expect(covered == all)
    }

    @Test func theRequestIDIsEchoedFromTheMessage() throws {
        let request = try decode(#"{"id":"abc-123","op":"activity"}"#).get()
        #expect(request.id == "abc-123")
    }

    /// Malformed variants and the code each must get.
    static let refusals: [(String, String)] = [
        ("not json", "malformed_json"),
        (#"{"op":"activity","id":"1""#, "malformed_json"),
        (#"{"op":"activity","id":"1","id":"2"}"#, "malformed_json"),
        ("[1,2]", "not_an_object"),
        (#""text""#, "not_an_object"),
        ("null", "not_an_object"),
        (#"{"op":"activity"}"#, "invalid_id"),
        (#"{"op":"activity","id":7}"#, "invalid_id"),
        (#"{"op":"activity","id":""}"#, "invalid_id"),
        (#"{"op":"activity","id":null}"#, "invalid_id"),
        (#"{"op":"activity","id":"\#(String(repeating: "x", count: 65))"}"#, "invalid_id"),
        (#"{"id":"1"}"#, "missing_field"),
        (#"{"id":"1","op":5}"#, "wrong_type"),
        (#"{"id":"1","op":"fly"}"#, "unknown_op"),
        (#"{"id":"1","op":"activity","extra":true}"#, "unknown_field"),
        (#"{"id":"1","op":"logOut","deviceToken":"x"}"#, "unknown_field"),
        (#"{"id":"1","op":"signIn"}"#, "missing_field"),
        (#"{"id":"1","op":"signIn","method":"magic"}"#, "invalid_value"),
        (#"{"id":"1","op":"signIn","method":"password","email":"a@x.org","device":"web"}"#, "missing_field"),
        (#"{"id":"1","op":"signIn","method":"password","email":"a@x.org","password":"p","device":"phone"}"#, "invalid_value"),
        (#"{"id":"1","op":"signIn","method":"password","email":"a@x.org","password":"p","device":"web","staySignedIn":"yes"}"#, "wrong_type"),
        (#"{"id":"1","op":"signIn","method":"password","email":"a@x.org","password":"p","device":"web","deviceToken":"t"}"#, "unknown_field"),
        (#"{"id":"1","op":"signIn","method":"token"}"#, "missing_field"),
        (#"{"id":"1","op":"signIn","method":"google","idToken":"x"}"#, "missing_field"),
        (#"{"id":"1","op":"signIn","method":"subscriber","key":""}"#, "invalid_value"),
        (#"{"id":"1","op":"resume","resumeToken":"t"}"#, "missing_field"),
        (#"{"id":"1","op":"resume","resumeToken":"t","lastSeq":-1}"#, "invalid_value"),
        (#"{"id":"1","op":"resume","resumeToken":"t","lastSeq":1.5}"#, "wrong_type"),
        (#"{"id":"1","op":"resume","resumeToken":"t","lastSeq":1e3}"#, "wrong_type"),
        (#"{"id":"1","op":"heartbeat","lastSeq":"3"}"#, "wrong_type"),
        (#"{"id":"1","op":"heartbeat","lastSeq":9007199254740992}"#, "invalid_value"),
        (#"{"id":"1","op":"setStatus","status":"idle"}"#, "invalid_value"),
        (#"{"id":"1","op":"setStatus","status":null}"#, "wrong_type"),
        (#"{"id":"1","op":"requestContact","user":"not-an-address"}"#, "invalid_email"),
        (#"{"id":"1","op":"requestContact","user":["a@x.org"]}"#, "wrong_type"),
        (#"{"id":"1","op":"send","to":"b@x.org","clientMessageId":"m","body":""}"#, "invalid_value"),
        (#"{"id":"1","op":"send","to":"b@x.org","body":"hi"}"#, "missing_field"),
        (#"{"id":"1","op":"send","to":"b@x.org","clientMessageId":"\#(String(repeating: "m", count: 65))","body":"hi"}"#, "value_too_long"),
        (#"{"id":"1","op":"send","to":"b@x.org","clientMessageId":"m","body":"\#(String(repeating: "é", count: 8193))"}"#, "value_too_long"),
        (#"{"id":"1","op":"history","with":"b@x.org","limit":0}"#, "invalid_value"),
        (#"{"id":"1","op":"history","with":"b@x.org","limit":101}"#, "invalid_value"),
        (#"{"id":"1","op":"history","with":"b@x.org","before":0}"#, "invalid_value"),
        (#"{"id":"1","op":"invite","to":"b@x.org","payload":42}"#, "wrong_type"),
        (#"{"id":"1","op":"invite","to":"b@x.org","payload":"\#(String(repeating: "s", count: 32_767))"}"#, "value_too_long"),
        (#"{"id":"1","op":"ringing"}"#, "missing_field"),
        (#"{"id":"1","op":"ringing","call":0}"#, "invalid_value"),
        (#"{"id":"1","op":"ringing","call":"3"}"#, "wrong_type"),
        (#"{"id":"1","op":"signal","call":3}"#, "missing_field"),
        (#"{"id":"1","op":"signal","call":3,"payload":[1]}"#, "wrong_type"),
        (#"{"id":"1","op":"subscribe","users":[]}"#, "invalid_value"),
        (#"{"id":"1","op":"subscribe","users":"a@x.org"}"#, "wrong_type"),
        (#"{"id":"1","op":"subscribe","users":[1]}"#, "wrong_type"),
        (#"{"id":"1","op":"subscribe","users":["nope"]}"#, "invalid_email"),
        (#"{"id":"1","op":"updateProfile"}"#, "no_changes"),
        (#"{"id":"1","op":"updateProfile","nickname":"x"}"#, "unknown_field"),
        (#"{"id":"1","op":"updateProfile","email":"new@x.org"}"#, "email_cannot_change"),
        (#"{"id":"1","op":"updateProfile","firstName":"\#(String(repeating: "n", count: 401))"}"#, "value_too_long"),
        (#"{"id":"1","op":"updateProfile","offlineEmail":1}"#, "wrong_type"),
        (#"{"id":"1","op":"changePassword","currentPassword":"a"}"#, "missing_field"),
        (#"{"id":"1","op":"deleteAccount"}"#, "missing_field"),
        (#"{"id":"1","op":"changeEmail","newEmail":"new@x.org"}"#, "email_cannot_change"),
    ]

    @Test(arguments: refusals.indices)
    func everyMalformedVariantGetsItsDocumentedCode(_ index: Int) {
        let (text, code) = Self.refusals[index]
        #expect(refusalCode(text) == code, "\(text)")
    }

    @Test func errorsBeforeTheIDIsReadReplyWithNullID() throws {
        for text in ["nope", "[]", #"{"op":"activity"}"#, #"{"op":"activity","id":3}"#] {
            guard case .failure(let rejected) = decode(text) else { Issue.record("decoded \(text)"); continue }
            #expect(rejected.id == nil)
            let reply = try foundationObject(ReplyEncoder.rejection(rejected))
            #expect(reply["id"] is NSNull)
            #expect(reply["type"] as? String == "error")
        }
    }

    @Test func errorsAfterTheIDIsReadEchoIt() {
        guard case .failure(let rejected) = decode(#"{"id":"r9","op":"send","to":"b@x.org"}"#) else { return }
        #expect(rejected.id == "r9")
        #expect(rejected.reply.field == "clientMessageId")
    }

    @Test func binaryFramesGetTheirOwnCode() {
        #expect(ClientOpDecoder.binaryFrameRejection.reply.code == "binary_frame")
        #expect(ClientOpDecoder.binaryFrameRejection.id == nil)
    }

    @Test func signInAndResumeAreTheOnlyOpsWithoutASession() throws {
        for (text, decoded) in Self.validOps {
            let expectsSession = !(text.contains(#""op":"signIn""#) || text.contains(#""op":"resume""#))
            #expect(decoded.requiresSession == expectsSession)
        }
    }

    @Test func directOpsMapToTheirPresenceCommands() throws {
        let session = SessionID(5)
        #expect(try op(#"{"op":"heartbeat","id":"1","lastSeq":4}"#).presenceCommand(for: session)
            .map { "\($0)" } == "\(Command.heartbeat(session, lastSeenSequence: 4))")
        #expect(try op(#"{"op":"invite","id":"1","to":"b@x.org"}"#).presenceCommand(for: session) == nil)
        #expect(try op(#"{"op":"invite","id":"1","to":"b@x.org"}"#).presenceCommand(for: session, newCall: CallID(9)) != nil)
        #expect(try op(#"{"op":"history","id":"1","with":"b@x.org"}"#).presenceCommand(for: session) == nil)
    }
}

import Foundation
