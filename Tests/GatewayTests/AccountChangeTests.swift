import Foundation
@testable import Gateway
import Presence
import PresenceClient
import Storage
import Testing

/// Profile edits, passwords, logout and deletion over real sockets.
@Suite(.serialized) struct AccountChangeTests {
    /// Reads until the server closes; returns the Close frame.
    func closeFrame(_ c: PresenceConnection) throws -> PresenceConnection.Closed? {
        do { while true { _ = try c.next() } } catch let closed as PresenceConnection.Closed { return closed }
    }

    @Test func profileEditSavesThenForcesAFreshLoginThatCarriesIt() throws {
        let g = try RunningGateway()
        for n in ["alice", "bob"] { try g.signUp(n) }
        let (alice, reply) = try g.signIn("alice", staySignedIn: true)
        let token = try #require(reply["deviceToken"] as? String)
        let (bob, _) = try g.signIn("bob")
        try g.befriend((alice, "alice"), (bob, "bob"))
        let edit = try alice.call("updateProfile", ["firstName": "Alicia", "offlineEmail": true])
        #expect(edit["type"] as? String == "ok")
        #expect(try closeFrame(alice)?.code == 4003)
        // The device token signs straight back in, and the new profile comes with it.
        let again = try PresenceConnection(port: g.port)
        let signIn = try again.call("signIn", ["method": "token", "deviceToken": token])
        let profile = try #require(signIn["profile"] as? [String: Any])
        #expect(profile["firstName"] as? String == "Alicia")
        #expect(profile["offlineEmail"] as? Bool == true)
        // Rotated: once the new token is used, the old one no longer works (until then it
        // has a grace period, in case this reply was lost).
        let rotated = try #require(signIn["deviceToken"] as? String)
        #expect(rotated != token)
        let next = try PresenceConnection(port: g.port)
        #expect(try next.call("signIn", ["method": "token", "deviceToken": rotated])["type"] as? String == "ok")
        let stale = try PresenceConnection(port: g.port)
        #expect(try stale.call("signIn", ["method": "token", "deviceToken": token])["code"] as? String == "invalid_device_token")
    }

    @Test func changingTheEmailIsRefusedWithAdvice() throws {
        let g = try RunningGateway()
        try g.signUp("alice")
        let (alice, _) = try g.signIn("alice")
        let r = try alice.call("updateProfile", ["email": "new@example.com"])
        #expect(r["code"] as? String == "email_cannot_change")
        #expect((r["message"] as? String ?? "").contains("new account"))
    }

    @Test func logOutRevokesTheDeviceTokenButClosingTheAppDoesNot() throws {
        let g = try RunningGateway()
        try g.signUp("alice")
        // Closing the connection (the app) keeps the token.
        var token: String
        do {
            let (c, reply) = try g.signIn("alice", staySignedIn: true)
            token = try #require(reply["deviceToken"] as? String)
            try c.socket.send(.close, [0x03, 0xE8])
        }
        let c2 = try PresenceConnection(port: g.port)
        let r2 = try c2.call("signIn", ["method": "token", "deviceToken": token])
        #expect(r2["type"] as? String == "ok")
        token = try #require(r2["deviceToken"] as? String)
        // Logging out revokes it.
        #expect(try c2.call("logOut")["type"] as? String == "ok")
        let c3 = try PresenceConnection(port: g.port)
        #expect(g.eventually {
            (try? PresenceConnection(port: g.port).call("signIn", ["method": "token", "deviceToken": token])["code"] as? String) == "invalid_device_token"
        })
        _ = c3
    }

    @Test func changePasswordNeedsTheOldOneAndForcesFreshLoginsElsewhere() throws {
        let g = try RunningGateway()
        try g.signUp("alice")
        let (alice, _) = try g.signIn("alice")
        let (phone, _) = try g.signIn("alice", device: "mobile")
        let wrong = try alice.call("changePassword", ["currentPassword": "Wrong#12345", "newPassword": "Another#Pass1"])
        #expect(wrong["code"] as? String == "invalid_credentials")
        let weak = try alice.call("changePassword", ["currentPassword": RunningGateway.password, "newPassword": "weak"])
        #expect(weak["code"] as? String == "password_rejected")
        let ok = try alice.call("changePassword", ["currentPassword": RunningGateway.password, "newPassword": "Another#Pass1"])
        #expect(ok["type"] as? String == "ok")
        // README §4: the other sessions close; the one that proved the password stays.
        #expect(try closeFrame(phone)?.code == 4003)
        #expect(try alice.call("setStatus", ["status": "busy"])["type"] as? String == "ok")
        #expect(try alice.event("ownStatus")["status"] as? String == "busy")
        let c = try PresenceConnection(port: g.port)
        #expect(try c.call("signIn", ["method": "password", "email": "alice@example.com", "password": "Another#Pass1", "device": "web"])["type"] as? String == "ok")
    }

    @Test func deletingTheAccountClosesSessionsTellsContactsAndFreesTheAddress() throws {
        let g = try RunningGateway()
        for n in ["alice", "bob"] { try g.signUp(n) }
        let (alice, _) = try g.signIn("alice")
        let (bob, _) = try g.signIn("bob")
        try g.befriend((alice, "alice"), (bob, "bob"))
        _ = try alice.call("send", ["to": "bob@example.com", "clientMessageId": "d1", "body": "bye"])
        #expect(try alice.call("deleteAccount", ["password": "Wrong#12345"])["code"] as? String == "invalid_credentials")
        #expect(try alice.call("deleteAccount", ["password": RunningGateway.password])["type"] as? String == "ok")
        #expect(try closeFrame(alice)?.code == 4004)
        let removed = try bob.event("contactRemoved")
        #expect(removed["user"] as? String == "alice@example.com")
        let db = try Database(path: g.databasePath)
        #expect(try MessageStore(db).history(between: "alice@example.com", and: "bob@example.com", limit: 10).isEmpty)
        #expect(try ContactStore(db).contacts(of: "bob@example.com").isEmpty)
        try g.signUp("alice")  // the address can be registered again
    }

    @Test func passwordResetByMailLinkIsSingleUseAndClosesSessions() throws {
        let g = try RunningGateway()
        try g.signUp("alice")
        let (alice, _) = try g.signIn("alice")
        let unknown = try g.post("/v1/password-reset", ["email": "nobody@example.com"])
        let known = try g.post("/v1/password-reset", ["email": "alice@example.com"])
        // The same answer whether or not the account exists.
        #expect(unknown.status == 202)
        #expect(known.status == 202)
        #expect(NSDictionary(dictionary: unknown.body) == NSDictionary(dictionary: known.body))
        #expect(g.eventually { !g.mails().isEmpty })
        let mail = try #require(g.mails().first)
        #expect(mail.contains("alice@example.com"))
        #expect(mail.contains("24 hours"))
        #expect(g.mails().count == 1)
        let token = try #require(mail.range(of: #"token=([A-Za-z0-9_\-]+)"#, options: .regularExpression).map {
            String(mail[$0].dropFirst("token=".count))
        })
        let page = try WebSocketClient(port: g.port)
        try page.write("GET /reset?token=\(token) HTTP/1.1\r\nHost: x\r\n\r\n")
        let form = try page.readHTTPResponse()
        #expect(form.status == 200)
        #expect(form.body.contains("<form"))
        let done = try g.post("/v1/password-reset/confirm", ["token": token, "newPassword": "Brand#New123"])
        #expect(done.status == 200)
        #expect(try closeFrame(alice)?.code == 4003)
        let again = try g.post("/v1/password-reset/confirm", ["token": token, "newPassword": "Other#New123"])
        #expect(again.status == 400)
        let c = try PresenceConnection(port: g.port)
        #expect(try c.call("signIn", ["method": "password", "email": "alice@example.com", "password": "Brand#New123", "device": "web"])["type"] as? String == "ok")
    }

    @Test func signUpNamesEveryBrokenPasswordRule() throws {
        let g = try RunningGateway()
        let r = try g.post("/v1/accounts", ["email": "x@example.com", "password": "short", "firstName": "X", "lastName": "Y"])
        #expect(r.status == 400)
        #expect(r.body["code"] as? String == "password_rejected")
        let message = r.body["message"] as? String ?? ""
        for rule in ["10 characters", "uppercase", "digit", "not a letter or digit"] { #expect(message.contains(rule)) }
    }
}
