import Accounts
import Foundation
import Presence
import Testing
import WebSocket
@testable import Gateway

@Suite struct WireReplyEncoderTests {
    @Test func okEchoesTheID() throws {
        let object = try foundationObject(ReplyEncoder.ok(id: "a\"b"))
        #expect(object["type"] as? String == "ok")
        #expect(object["id"] as? String == "a\"b")
    }

    @Test func errorRepliesCarryCodeMessageFieldAndRetryAfter() throws {
        let object = try foundationObject(ReplyEncoder.error(id: "7", ErrorReply(AccountsError.rateLimited(retryAfterSeconds: 30))))
        #expect(object["code"] as? String == "rate_limited")
        #expect(object["retryAfter"] as? Int == 30)
        #expect((object["message"] as? String)?.isEmpty == false)
        let missing = try foundationObject(ReplyEncoder.error(id: "8", ErrorReply(WireError.missingField("to"))))
        #expect(missing["field"] as? String == "to")
    }

    static let presenceErrors: [PresenceError] = [
        .unknownSession, .sessionAlreadyExists, .wrongSessionKind, .sequenceAhead, .cannotTargetSelf, .notAContact,
        .alreadyContacts, .noPendingRequest, .messageTooLarge, .unknownMessageTicket, .duplicateCall, .unknownCall,
        .notCallParticipant, .callStateMismatch, .alreadyInCall, .notPermitted,
    ]
    static let accountsErrors: [AccountsError] = [
        .invalidEmail, .emailTaken, .passwordRejected([.missingDigit]), .invalidName(field: "first name"),
        .invalidCredentials, .rateLimited(retryAfterSeconds: 5), .invalidDeviceToken, .invalidResetToken,
        .resetTokenExpired, .emailCannotChange, .googleTokenRejected(.expired), .accountNotFound,
    ]

    @Test func everyDomainErrorKeepsItsCodeOnTheWire() {
        for error in Self.presenceErrors {
            #expect(ErrorReply(error).code == error.code)
            #expect(!ErrorReply(error).message.isEmpty)
        }
        for error in Self.accountsErrors {
            #expect(ErrorReply(error).code == error.code)
            #expect(ErrorReply(error).httpStatus == error.httpStatus)
        }
    }

    @Test func everyErrorCodeIsDocumentedInTheSpec() throws {
        let spec = try String(contentsOf: protocolDirectory.appendingPathComponent("README.md"), encoding: .utf8)
        let wireErrors: [WireError] = [
            .malformedJSON(detail: ""), .notAnObject, .invalidRequestID, .binaryFrame, .unknownOp(""), .missingField(""),
            .unknownField(""), .wrongType(field: "", expected: ""), .valueTooLong(field: "", limit: 0),
            .invalidValue(field: "", reason: ""), .invalidEmail(field: ""), .noChanges, .notSignedIn, .alreadySignedIn,
            .invalidSubscriberKey, .resumeImpossible, .passwordMismatch, .unsupportedMediaType(expected: ""),
            .notFound, .methodNotAllowed, .internalError(retryAfterSeconds: nil),
        ]
        let codes = wireErrors.map(\.code) + Self.presenceErrors.map(\.code) + Self.accountsErrors.map(\.code)
        for code in codes { #expect(spec.contains("`\(code)`"), "\(code) missing from Protocol/README.md") }
    }

    @Test func unknownErrorsBecomeInternalErrorWithoutDetail() {
        struct DiskOnFire: Error {}
        let reply = ErrorReply(any: DiskOnFire())
        #expect(reply.code == "internal_error")
        #expect(reply.httpStatus == 500)
    }

    @Test func signInReplyCarriesProfileSessionResumeAndDeviceTokens() throws {
        let token = ResumeToken(session: SessionID(17), secret: Array(repeating: 0xAB, count: 16))
        let reply = SignInReply(session: SessionID(17), resumeToken: token, principal: .user(
            WireProfile(id: "ann@x.org", firstName: "Ann", lastName: "Lee", offlineEmail: true), device: .mobile,
            deviceToken: "dt"))
        let object = try foundationObject(ReplyEncoder.signIn(id: "1", reply))
        #expect(object["session"] as? String == "17")
        #expect(object["resumeToken"] as? String == "17." + String(repeating: "ab", count: 16))
        #expect(object["deviceToken"] as? String == "dt")
        #expect(object["device"] as? String == "mobile")
        let profile = try #require(object["profile"] as? [String: Any])
        #expect(profile["id"] as? String == "ann@x.org")
        #expect(profile["offlineEmail"] as? Bool == true)
    }

    @Test func subscriberSignInReplyListsWhatItMayWatch() throws {
        let reply = SignInReply(session: SessionID(2), resumeToken: ResumeToken(session: SessionID(2), secret: Array(repeating: 1, count: 16)),
                                principal: .subscriber(name: "clinic", allowed: [user("a@x.org")]))
        let object = try foundationObject(ReplyEncoder.signIn(id: "1", reply))
        let subscriber = try #require(object["subscriber"] as? [String: Any])
        #expect(subscriber["allowed"] as? [String] == ["a@x.org"])
        #expect(object["deviceToken"] == nil)
    }

    @Test func resumeTokensRoundTripAndRejectForgeries() {
        let token = ResumeToken(session: SessionID(99), secret: (0..<16).map { UInt8($0 * 17) })
        let read = ResumeToken(text: token.text)
        #expect(read == token)
        #expect(read?.hasSecret(token.secret) == true)
        #expect(read?.hasSecret(Array(repeating: 0, count: 16)) == false)
        for bad in ["", "99", "99.", "x.00112233445566778899aabbccddeeff", "99.00112233445566778899AABBCCDDEEFF",
                    "99.0011", "99.00112233445566778899aabbccddeeff.1"] {
            #expect(ResumeToken(text: bad) == nil, "\(bad)")
        }
    }

    @Test func historyPagesAreNewestFirstWithAMoreFlag() throws {
        let message = ChatMessage(id: MessageID(3), sender: user("a@x.org"), recipient: user("b@x.org"),
                                  clientMessageID: "m", body: "b", sentAt: Instant(milliseconds: 5))
        let object = try foundationObject(ReplyEncoder.history(id: "h", HistoryPage(messages: [message], hasMore: true)))
        #expect(object["hasMore"] as? Bool == true)
        #expect((object["messages"] as? [[String: Any]])?.first?["messageId"] as? Int == 3)
    }

    @Test func helloAnnouncesProtocolHeartbeatAndLimits() throws {
        let object = try foundationObject(ServerHello(server: "presenced/test").encoded())
        #expect(object["type"] as? String == "hello")
        #expect(object["protocol"] as? String == "presence.v1")
        #expect(object["heartbeatSeconds"] as? Int == 25)
        #expect((object["limits"] as? [String: Any])?["bodyBytes"] as? Int == 16_384)
    }

    /// The close-code table: reason → code → what the client does.
    static let closeTable: [(CloseReason?, GatewayCloseCode, UInt16, ReconnectAdvice)] = [
        (.signedOut, .signedOut, 4000, .stop),
        (.sessionExpired, .sessionExpired, 4001, .signInAgain),
        (.resumeImpossible, .resumeImpossible, 4002, .signInAgain),
        (.reauthenticate, .reauthenticate, 4003, .signInAgain),
        (.accountDeleted, .accountDeleted, 4004, .stop),
        (nil, .signInTimeout, 4005, .signInAgain),
        (.heartbeatTimeout, .heartbeatTimeout, 4006, .signInAgain),
        (.sessionLimit, .tooManySessions, 4007, .stop),
    ]

    @Test(arguments: closeTable.indices)
    func everyCloseReasonHasItsApplicationCode(_ index: Int) throws {
        let (reason, code, number, advice) = Self.closeTable[index]
        if let reason { #expect(GatewayCloseCode(reason) == code) }
        #expect(code.rawValue == number)
        #expect(code.closeCode.isValidOnWire)
        #expect(code.advice == advice)
        #expect(GatewayCloseCode.advice(for: CloseCode(number)) == advice)
        #expect(code.reason.utf8.count <= 123)
        let notice = try foundationObject(ReplyEncoder.closing(code))
        #expect(notice["code"] as? Int == Int(number))
        #expect(notice["advice"] as? String == advice.rawValue)
    }

    @Test func transportCloseCodesAdviseResumeOrStop() {
        for code: UInt16 in [1001, 1006, 1011, 1012, 1013] {
            #expect(GatewayCloseCode.advice(for: CloseCode(code)) == .reconnectAndResume)
        }
        for code: UInt16 in [1000, 1002, 1003, 1007, 1008, 1009, 4999] {
            #expect(GatewayCloseCode.advice(for: CloseCode(code)) == .stop)
        }
    }
}
