import Foundation
@testable import Gateway
import PresenceClient
import Storage
import Testing

/// Device-token rotation with grace, end to end over `/ws`: a sign-in reply lost in
/// transit must not log the device out, yet the old token dies as soon as the new one is
/// used, when the grace period ends, or when the device logs out.
@Suite struct DeviceTokenGraceTests {
    /// A token sign-in on a fresh connection. - Returns: the reply.
    func signIn(_ g: RunningGateway, token: String) throws -> [String: Any] {
        let c = try PresenceConnection(port: g.port, timeoutSeconds: 15)
        return try c.call("signIn", ["method": "token", "deviceToken": token])
    }

    func newToken(_ reply: [String: Any]) throws -> String {
        #expect(reply["type"] as? String == "ok", "\(reply)")
        return try #require(reply["deviceToken"] as? String)
    }

    func expectRefused(_ reply: [String: Any], _ comment: Comment) {
        #expect(reply["type"] as? String == "error", comment)
        #expect(reply["code"] as? String == "invalid_device_token", comment)
    }

    @Test func lostReplyDoesNotLogTheDeviceOutUntilTheNewTokenIsUsed() throws {
        let g = try RunningGateway()
        try g.signUp("tom")
        let t1 = try newToken(g.signIn("tom", staySignedIn: true).1)
        _ = try newToken(signIn(g, token: t1))      // T2: this reply is "lost", the client keeps T1
        let t3 = try newToken(signIn(g, token: t1))  // the retry with T1 works within the grace
        let t4 = try newToken(signIn(g, token: t3))  // the device's current token is used...
        expectRefused(try signIn(g, token: t1), "...so T1 is dead")
        #expect(try signIn(g, token: t4)["type"] as? String == "ok")
    }

    @Test func rotatedTokenDiesWhenTheGracePeriodEnds() throws {
        let g = try RunningGateway { $0.accounts.deviceTokenGraceMilliseconds = 1_500 }
        try g.signUp("una")
        let t1 = try newToken(g.signIn("una", staySignedIn: true).1)
        let t2 = try newToken(signIn(g, token: t1))
        Thread.sleep(forTimeInterval: 1.7)
        expectRefused(try signIn(g, token: t1), "T1 after the grace")
        #expect(try signIn(g, token: t2)["type"] as? String == "ok", "the new token still works")
    }

    @Test func logOutRevokesTheNewAndThePreviousToken() throws {
        let g = try RunningGateway()
        try g.signUp("val")
        let t1 = try newToken(g.signIn("val", staySignedIn: true).1)
        let c = try PresenceConnection(port: g.port, timeoutSeconds: 15)
        let t2 = try newToken(try c.call("signIn", ["method": "token", "deviceToken": t1]))
        #expect(try c.call("logOut")["type"] as? String == "ok")
        // The revocation runs on an account worker after the reply: wait for it in the file.
        let database = try Database(path: g.databasePath, migrate: false)
        #expect(g.eventually(10) {
            (try? database.queryFirst("SELECT count(*) FROM device_tokens WHERE revoked_at IS NULL") { $0.int(0) }) == 0
        })
        expectRefused(try signIn(g, token: t1), "the previous token, still within its grace")
        expectRefused(try signIn(g, token: t2), "the current token")
    }
}
