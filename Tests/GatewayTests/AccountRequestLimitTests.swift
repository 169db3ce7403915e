import Accounts
import Foundation
@testable import Gateway
import PresenceClient
import Testing

/// The limits on the HTTP account endpoints, as a client sees them: sign-up per source
/// address (429 + retryAfter), and password reset, whose answer never depends on whether
/// the account exists or how often it was asked for.
@Suite struct AccountRequestLimitTests {
    struct Answer: Equatable, CustomStringConvertible {
        var status: Int
        var headers: [String: String]
        var body: String
        var description: String { "\(status) \(headers) \(body)" }
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
    }

    /// `POST path` with a JSON body; the `Date` header is dropped (it changes every second).
    func post(_ g: RunningGateway, _ path: String, _ body: [String: Any]) throws -> Answer {
        let c = try WebSocketClient(port: g.port, timeoutSeconds: 15)
        let data = try JSONSerialization.data(withJSONObject: body)
        try c.write("POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(data.count)\r\nConnection: close\r\n\r\n")
        try c.write(Array(data))
        let r = try c.readHTTPResponse()
        return Answer(status: r.status, headers: r.headers.filter { $0.key != "date" }, body: r.body)
    }

    func signUpBody(_ name: String) -> [String: Any] {
        ["email": "\(name)@example.com", "password": RunningGateway.password, "firstName": name.capitalized]
    }

    @Test func signUpsPastTheBurstPerSourceAddressAreAnswered429WithRetryAfter() throws {
        let limit = RateLimit(burst: 2, refillMilliseconds: 600_000)
        let g = try RunningGateway { $0.signUpLimiter = RateLimiter(perAccount: limit, perAddress: limit, now: systemMillisecondClock) }
        #expect(try post(g, "/v1/accounts", signUpBody("amy")).status == 201)
        // A refused sign-up counts too: it may have cost a hash.
        #expect(try post(g, "/v1/accounts", signUpBody("amy")).status == 409)
        let limited = try post(g, "/v1/accounts", signUpBody("bea"))
        #expect(limited.status == 429, "\(limited)")
        #expect(limited.json["code"] as? String == "rate_limited")
        let retryAfter = try #require(limited.json["retryAfter"] as? Int)
        #expect((590...600).contains(retryAfter))
        #expect(limited.headers["retry-after"] == String(retryAfter))
        // Nothing was created past the limit.
        let c = try PresenceConnection(port: g.port, timeoutSeconds: 15)
        let signIn = try c.call("signIn", ["method": "password", "email": "bea@example.com", "password": RunningGateway.password, "device": "web"])
        #expect(signIn["code"] as? String == "invalid_credentials")
    }

    @Test func resetAnswerIsTheSameForKnownAndUnknownAddressesAcrossThePerTargetLimit() throws {
        // A per-source burst large enough that only the per-target limit (3) is crossed.
        let g = try RunningGateway {
            $0.resetLimiter = RateLimiter(perAccount: .resetPerAccount, perAddress: RateLimit(burst: 50, refillMilliseconds: 60_000),
                                          now: systemMillisecondClock)
        }
        try g.signUp("ann")
        for round in 1...(RateLimit.resetPerAccount.burst + 2) {
            let known = try post(g, "/v1/password-reset", ["email": "ann@example.com"])
            let unknown = try post(g, "/v1/password-reset", ["email": "nobody@example.com"])
            #expect(known.status == 202, "request \(round): \(known)")
            #expect(known == unknown, "request \(round)")
        }
        // Positive control: the mails do arrive, and the limit really dropped the rest.
        let burst = RateLimit.resetPerAccount.burst
        #expect(g.eventually(10) { g.mails().count >= burst })
        Thread.sleep(forTimeInterval: 1)
        #expect(g.mails().count == burst)
        #expect(g.mails().allSatisfy { $0.contains("To: ann@example.com") })
    }

    @Test func resetRequestsPastThePerSourceBurstAreAnswered429AlikeForKnownAndUnknownAddresses() throws {
        let g = try RunningGateway {
            $0.resetLimiter = RateLimiter(perAccount: .resetPerAccount, perAddress: RateLimit(burst: 2, refillMilliseconds: 60_000),
                                          now: systemMillisecondClock)
        }
        try g.signUp("ann")
        #expect(try post(g, "/v1/password-reset", ["email": "x@example.com"]).status == 202)
        #expect(try post(g, "/v1/password-reset", ["email": "y@example.com"]).status == 202)
        let known = try post(g, "/v1/password-reset", ["email": "ann@example.com"])
        let unknown = try post(g, "/v1/password-reset", ["email": "nobody@example.com"])
        #expect(known.status == 429, "\(known)")
        #expect(known.json["code"] as? String == "rate_limited")
        #expect(known.headers["retry-after"] != nil)
        #expect(known.status == unknown.status && known.body.count == unknown.body.count)
        #expect(known.json["code"] as? String == unknown.json["code"] as? String)
    }
}
