import Foundation
@testable import Gateway
import PresenceClient
import Testing

/// The storage writer's and the account workers' mailboxes are bounded like the presence
/// thread's (`MailboxBoundTests`): a full one answers the documented error, never queues
/// without bound, and the same request goes through once there is room.
@Suite(.serialized) struct FullMailboxTests {
    static var aliceSignIn: [String: Any] { ["method": "password", "email": "alice@example.com",
                                             "password": RunningGateway.password, "device": "web"] }

    @Test func aFullWriterAnswersASignInOverloadedAndASendStorageFailedAndTakesBothOnceThereIsRoom() throws {
        let g = try RunningGateway { $0.storageWriterCapacity = 2 }
        try g.signUp("alice")
        try g.signUp("bob")
        let (alice, _) = try g.signIn("alice")
        let (bob, bobSignIn) = try g.signIn("bob", staySignedIn: true)
        let bobToken = try #require(bobSignIn["deviceToken"] as? String)
        try g.befriend((alice, "alice"), (bob, "bob"))
        let writer = g.gateway.runtime.writer
        #expect(writer.capacity == 2)
        _ = try writer.perform { _ in 0 }  // the contact's writes are behind us
        // Hold the writer inside a job, and fill its mailbox behind it.
        let gate = DispatchSemaphore(value: 0), entered = DispatchSemaphore(value: 0)
        writer.submit({ _ in
            entered.signal()
            gate.wait()
        }, completion: { _ in })
        entered.wait()
        let queued = DispatchGroup()
        for _ in 0..<2 {
            queued.enter()
            writer.submit({ _ in }, completion: { _ in queued.leave() })
        }
        let message: [String: Any] = ["to": "bob@example.com", "clientMessageId": "full-1", "body": "hello"]
        let refusedSend = try alice.call("send", message)
        #expect(refusedSend["code"] as? String == "storage_failed")
        // A password sign-in passes the workers, then its storage job is refused.
        let other = try PresenceConnection(port: g.port, timeoutSeconds: 15)
        let refusedSignIn = try other.call("signIn", Self.aliceSignIn)
        #expect(refusedSignIn["code"] as? String == "overloaded")
        #expect(refusedSignIn["retryAfter"] as? Int == 1)
        // A device-token sign-in goes from the loop straight to the writer: refused too.
        let bobAgain = try PresenceConnection(port: g.port, timeoutSeconds: 15)
        let tokenSignIn: [String: Any] = ["method": "token", "deviceToken": bobToken]
        #expect(try bobAgain.call("signIn", tokenSignIn)["code"] as? String == "overloaded")
        gate.signal()
        #expect(queued.wait(timeout: .now() + 30) == .success)
        // Positive control: the same send and the same sign-in, on the same connections.
        let sent = try alice.call("send", message)
        #expect(sent["type"] as? String == "ok")
        #expect(sent["clientMessageId"] as? String == "full-1")
        #expect(try bob.event("chat")["body"] as? String == "hello")
        #expect(try other.call("signIn", Self.aliceSignIn)["type"] as? String == "ok")
        // The refused job did nothing: the token it would have rotated still signs in.
        #expect(try bobAgain.call("signIn", tokenSignIn)["type"] as? String == "ok")
    }

    @Test func aFullAccountQueueAnswersASignInAHistoryOpAndASignUpOverloadedAndTakesThemOnceThereIsRoom() throws {
        let g = try RunningGateway {
            $0.accountThreads = 1
            $0.accountQueueCapacity = 1
        }
        try g.signUp("alice")
        try g.signUp("bob")
        let (alice, _) = try g.signIn("alice")
        let (bob, _) = try g.signIn("bob")
        try g.befriend((alice, "alice"), (bob, "bob"))
        let accounts = try #require(g.gateway.runtime.accounts)
        // Hold the one worker inside a job, and fill the queue behind it.
        let gate = DispatchSemaphore(value: 0), entered = DispatchSemaphore(value: 0)
        accounts.submit { _ in
            entered.signal()
            gate.wait()
        }
        entered.wait()
        accounts.submit { _ in }
        #expect(!accounts.hasRoom)
        let history: [String: Any] = ["with": "bob@example.com"]
        let refusedHistory = try alice.call("history", history)
        #expect(refusedHistory["code"] as? String == "overloaded")
        #expect(refusedHistory["retryAfter"] as? Int == 1)
        let other = try PresenceConnection(port: g.port, timeoutSeconds: 15)
        let refusedSignIn = try other.call("signIn", Self.aliceSignIn)
        #expect(refusedSignIn["code"] as? String == "overloaded")
        let signUp: [String: Any] = ["email": "carol@example.com", "password": RunningGateway.password,
                                     "firstName": "Carol", "lastName": "Test", "offlineEmail": false]
        let refusedSignUp = try g.post("/v1/accounts", signUp)
        #expect(refusedSignUp.status == 503)
        #expect(refusedSignUp.body["code"] as? String == "overloaded")
        #expect(accounts.backlog == 1, "nothing refused was queued")
        gate.signal()
        #expect(g.eventually { accounts.backlog == 0 })
        // Positive control: the same three requests.
        let page = try alice.call("history", history)
        #expect(page["type"] as? String == "ok", "\(page)")
        #expect(page["messages"] is [Any])
        #expect(try other.call("signIn", Self.aliceSignIn)["type"] as? String == "ok")
        #expect(try g.post("/v1/accounts", signUp).status == 201)
    }
}
