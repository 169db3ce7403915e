import Accounts
import Foundation
import Testing
@testable import Gateway

@Suite struct WireHTTPTests {
    static let json = "application/json; charset=utf-8"

    @Test func signUpDecodesWithDefaults() throws {
        let request = try HTTPWire.decodeSignUp(Array(#"{"email":"a@x.org","password":"Pw-123456789","firstName":"Ann"}"#.utf8),
                                                contentType: Self.json)
        #expect(request == HTTPWire.SignUpRequest(email: "a@x.org", password: "Pw-123456789", firstName: "Ann",
                                                  lastName: "", offlineEmail: false))
    }

    @Test(arguments: [
        (#"{"email":"a@x.org","password":"p"}"#, "missing_field"),
        (#"{"email":"a@x.org","password":"p","firstName":"A","admin":true}"#, "unknown_field"),
        (#"{"email":"a@x.org","password":"p","firstName":"A","offlineEmail":"yes"}"#, "wrong_type"),
        ("{", "malformed_json"),
        ("[]", "not_an_object"),
    ])
    func signUpRefusalsUseTheWireCodes(_ body: String, _ code: String) {
        #expect(throws: ErrorReply.self) { try HTTPWire.decodeSignUp(Array(body.utf8), contentType: Self.json) }
        do { _ = try HTTPWire.decodeSignUp(Array(body.utf8), contentType: Self.json) } catch { #expect(error.code == code) }
    }

    @Test func jsonEndpointsRefuseOtherMediaTypesWith415() {
        do {
            _ = try HTTPWire.decodePasswordResetRequest(Array(#"{"email":"a@x.org"}"#.utf8), contentType: "text/plain")
            Issue.record("accepted text/plain")
        } catch {
            #expect(error.code == "unsupported_media_type")
            #expect(error.httpStatus == 415)
        }
    }

    @Test func resetConfirmationReadsJSONAndTheHTMLForm() throws {
        let fromJSON = try HTTPWire.decodePasswordResetConfirm(Array(#"{"token":"t","newPassword":"N"}"#.utf8), contentType: "application/json")
        #expect(fromJSON == HTTPWire.ResetConfirmation(token: "t", newPassword: "N", isFromForm: false))
        let form = "token=ab%2Bc&newPassword=New+pass%21%C3%A9&confirmPassword=New+pass%21%C3%A9"
        let fromForm = try HTTPWire.decodePasswordResetConfirm(Array(form.utf8), contentType: "application/x-www-form-urlencoded")
        #expect(fromForm == HTTPWire.ResetConfirmation(token: "ab+c", newPassword: "New pass!é", isFromForm: true))
    }

    @Test func theFormRefusesTwoDifferentPasswords() {
        let form = "token=t&newPassword=a&confirmPassword=b"
        do {
            _ = try HTTPWire.decodePasswordResetConfirm(Array(form.utf8), contentType: "application/x-www-form-urlencoded")
            Issue.record("accepted a mismatch")
        } catch {
            #expect(error.code == "password_mismatch")
        }
    }

    @Test func resetTokenIsReadFromTheLinkQuery() {
        #expect(HTTPWire.resetToken(fromQuery: "token=abc%20d&x=1") == "abc d")
        #expect(HTTPWire.resetToken(fromQuery: "x=1") == nil)
        #expect(HTTPWire.resetToken(fromQuery: "token=") == nil)
        #expect(HTTPWire.resetToken(fromQuery: nil) == nil)
    }

    @Test func resetRequestAnswerIsTheSameWhateverHappens() throws {
        let response = HTTPWire.passwordResetAccepted
        #expect(response.status == 202)
        #expect(try foundationObject(response.body)["status"] as? String == "accepted")
    }

    @Test func errorResponsesCarryStatusBodyAndRetryAfter() throws {
        let response = HTTPWire.errorResponse(ErrorReply(AccountsError.rateLimited(retryAfterSeconds: 60)))
        #expect(response.status == 429)
        #expect(response.headers.contains { $0.name == "Retry-After" && $0.value == "60" })
        #expect(try foundationObject(response.body)["code"] as? String == "rate_limited")
    }

    @Test func readinessIs503WhenAnyCheckFails() throws {
        #expect(HTTPWire.readiness([("database", true)]).status == 200)
        let failing = HTTPWire.readiness([("database", true), ("mail \"spool\"", false)])
        #expect(failing.status == 503)
        let checks = try foundationObject(failing.body)["checks"] as? [String: String]
        #expect(checks == ["database": "ok", "mail \"spool\"": "failing"])
    }

    @Test func resetPageEscapesTheTokenAndKeepsItOutOfReferrers() {
        let response = ResetPage.form(token: #""><script>alert(1)</script>"#)
        let html = String(decoding: response.body, as: UTF8.self)
        #expect(!html.contains("<script>"))
        #expect(html.contains("&quot;&gt;&lt;script&gt;"))
        #expect(html.contains(#"action="/v1/password-reset/confirm""#))
        #expect(response.headers.contains { $0.name == "Referrer-Policy" && $0.value == "no-referrer" })
    }

    @Test func aDeadTokenShowsNoFormAgain() {
        let dead = ResetPage.afterFailure(ErrorReply(AccountsError.resetTokenExpired), token: "t")
        #expect(dead.status == 410)
        #expect(!String(decoding: dead.body, as: UTF8.self).contains("<form"))
        let retry = ResetPage.afterFailure(ErrorReply(AccountsError.passwordRejected([.missingDigit])), token: "t")
        #expect(String(decoding: retry.body, as: UTF8.self).contains("<form"))
    }
}
