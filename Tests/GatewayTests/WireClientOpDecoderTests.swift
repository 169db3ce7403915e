import Presence
import Testing
@testable import Gateway

@Suite struct WireClientOpDecoderTests {
    /// One valid message per op (and per sign-in method), with what it must decode to: the
    /// core command, from the session the decoder was given, for every op that is one.
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
        (#"{"op":"logOut","id":"1"}"#, .command(.signOut(decodingSession))),
        (#"{"op":"setStatus","id":"1","status":"hidden"}"#, .command(.setStatus(decodingSession, .hidden))),
        (#"{"op":"activity","id":"1"}"#, .command(.activity(decodingSession))),
        (#"{"op":"heartbeat","id":"1","lastSeq":9007199254740991}"#,
         .command(.heartbeat(decodingSession, lastSeenSequence: 9_007_199_254_740_991))),
        (#"{"op":"requestContact","id":"1","user":" B@X.org "}"#, .command(.requestContact(decodingSession, user("b@x.org")))),
        (#"{"op":"acceptContact","id":"1","user":"b@x.org"}"#, .command(.acceptContact(decodingSession, user("b@x.org")))),
        (#"{"op":"declineContact","id":"1","user":"b@x.org"}"#, .command(.declineContact(decodingSession, user("b@x.org")))),
        (#"{"op":"removeContact","id":"1","user":"b@x.org"}"#, .command(.removeContact(decodingSession, user("b@x.org")))),
        (#"{"op":"send","id":"1","to":"b@x.org","clientMessageId":"m1","body":"hi \"you\" 🎉"}"#,
         .command(.send(decodingSession, to: user("b@x.org"), clientMessageID: "m1", body: "hi \"you\" 🎉"))),
        (#"{"op":"history","id":"1","with":"b@x.org"}"#, .account(.history(with: user("b@x.org"), before: nil, limit: 50))),
        (#"{"op":"history","id":"1","with":"b@x.org","before":42,"limit":100}"#,
         .account(.history(with: user("b@x.org"), before: MessageID(42), limit: 100))),
        (#"{"op":"invite","id":"1","to":"b@x.org"}"#,
         .command(.invite(decodingSession, callee: user("b@x.org"), call: ClientOp.unassignedCall, payload: ""))),
        (#"{"op":"invite","id":"1","to":"b@x.org","payload":{"type":"offer", "sdp":"v=0"}}"#,
         .command(.invite(decodingSession, callee: user("b@x.org"), call: ClientOp.unassignedCall,
                          payload: #"{"type":"offer","sdp":"v=0"}"#))),
        (#"{"op":"ringing","id":"1","call":3}"#, .command(.ringing(decodingSession, CallID(3)))),
        (#"{"op":"accept","id":"1","call":3,"payload":"answer"}"#, .command(.accept(decodingSession, CallID(3), payload: #""answer""#))),
        (#"{"op":"decline","id":"1","call":3}"#, .command(.decline(decodingSession, CallID(3)))),
        (#"{"op":"cancel","id":"1","call":3}"#, .command(.cancel(decodingSession, CallID(3)))),
        (#"{"op":"hangUp","id":"1","call":3}"#, .command(.hangUp(decodingSession, CallID(3)))),
        (#"{"op":"signal","id":"1","call":3,"payload":{"candidate":"a=1"}}"#,
         .command(.signal(decodingSession, CallID(3), payload: #"{"candidate":"a=1"}"#))),
        (#"{"op":"subscribe","id":"1","users":["a@x.org","b@x.org"]}"#,
         .command(.subscribe(decodingSession, [user("a@x.org"), user("b@x.org")]))),
        (#"{"op":"unsubscribe","id":"1","users":["a@x.org"]}"#, .command(.unsubscribe(decodingSession, [user("a@x.org")]))),
        (#"{"op":"updateProfile","id":"1","firstName":"Ann","offlineEmail":true}"#,
         .account(.updateProfile(ProfileChanges(firstName: "Ann", lastName: nil, offlineEmail: true)))),
        (#"{"op":"changePassword","id":"1","currentPassword":"old","newPassword":"New-pass-123"}"#,
         .account(.changePassword(currentPassword: "old", newPassword: "New-pass-123"))),
        (#"{"op":"deleteAccount","id":"1","password":"pw"}"#, .account(.deleteAccount(password: "pw"))),
    ]

    @Test(arguments: validOps.indices)
    func everyOpDecodesFromValidJSON(_ index: Int) throws {
        let (text, expected) = Self.validOps[index]
        // `Command` has no `==`; its reflected description spells every case and value.
        #expect(try String(describing: op(text)) == String(describing: expected))
    }

    @Test func everyOpNameHasAValidExample() throws {
        let covered = Set(try Self.validOps.map { try foundationObject(Array($0.0.utf8))["op"] as? String ?? "" })
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
        // The op's member past the 64th, where the fields' bit set ends: found, then the
        // first of the unknown ones refused.
        ("{\"id\":\"1\"," + (0..<70).map { "\"x\($0)\":0" }.joined(separator: ",") + ",\"op\":\"activity\"}", "unknown_field"),
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

    @Test func commandsNameTheSessionTheDecoderWasGiven() throws {
        for raw: UInt64 in [1, 7, 1 << 40] {
            let session = SessionID(raw)
            #expect(try String(describing: op(#"{"op":"heartbeat","id":"1","lastSeq":4}"#, from: session))
                == String(describing: ClientOp.command(.heartbeat(session, lastSeenSequence: 4))))
            #expect(try String(describing: op(#"{"op":"logOut","id":"1"}"#, from: session))
                == String(describing: ClientOp.command(.signOut(session))))
        }
    }

    @Test func anInviteNamesTheUnassignedCallWhichNoClientCanName() throws {
        guard case .command(.invite(_, _, let call, _)) = try op(#"{"op":"invite","id":"1","to":"b@x.org"}"#) else {
            Issue.record("invite did not decode into Command.invite")
            return
        }
        #expect(call == ClientOp.unassignedCall)
        // Positive control: a call the client names comes through as named.
        guard case .command(.ringing(_, let named)) = try op(#"{"op":"ringing","id":"1","call":1}"#) else {
            Issue.record("ringing did not decode into Command.ringing")
            return
        }
        #expect(named == CallID(1))
        #expect(refusalCode(#"{"op":"ringing","id":"1","call":\#(ClientOp.unassignedCall.rawValue)}"#) == "invalid_value")
    }
}

import Foundation
