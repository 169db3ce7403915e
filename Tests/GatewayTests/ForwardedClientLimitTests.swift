import Accounts
import Foundation
@testable import Gateway
import PresenceClient
import Testing
import Transport

/// The account limits per source address behind a trusted reverse proxy, over real
/// sockets: the test's connections come from 127.0.0.1, which plays the proxy, and name
/// their clients in `X-Forwarded-For`. (scripts/nginx.sh runs the same rules through a
/// real nginx.)
@Suite struct ForwardedClientLimitTests {
    static let oneAtATime = RateLimit(burst: 1, refillMilliseconds: 600_000)

    static func gateway(trustingLoopback: Bool) throws -> RunningGateway {
        try RunningGateway {
            if trustingLoopback { $0.server.trustedProxies = TrustedProxies(parsing: ["127.0.0.1"])! }
            $0.signUpLimiter = RateLimiter(perAccount: oneAtATime, perAddress: oneAtATime, now: systemMillisecondClock)
            $0.signInLimiter = RateLimiter(perAccount: RateLimit(burst: 100, refillMilliseconds: 1000),
                                           perAddress: RateLimit(burst: 2, refillMilliseconds: 600_000), now: systemMillisecondClock)
        }
    }

    /// `POST /v1/accounts` for `name`, forwarded for `client`; the status.
    static func signUp(_ g: RunningGateway, _ name: String, forwardedFor client: String) throws -> Int {
        let c = try WebSocketClient(port: g.port, timeoutSeconds: 15)
        let data = try JSONSerialization.data(withJSONObject: ["email": "\(name)@example.com", "password": RunningGateway.password,
                                                               "firstName": name])
        try c.write("POST /v1/accounts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(data.count)\r\n"
            + "X-Forwarded-For: \(client)\r\nConnection: close\r\n\r\n")
        try c.write(Array(data))
        return try c.readHTTPResponse().status
    }

    @Test func signUpsAreLimitedPerForwardedClient() throws {
        let g = try Self.gateway(trustingLoopback: true)
        #expect(try Self.signUp(g, "amy", forwardedFor: "203.0.113.5") == 201)
        // The control: the same client's next sign-up is past its limit.
        #expect(try Self.signUp(g, "bea", forwardedFor: "203.0.113.5") == 429)
        // A prefix the client wrote itself does not make it someone else.
        #expect(try Self.signUp(g, "bea", forwardedFor: "198.51.100.1, 203.0.113.5") == 429)
        // Another client behind the same proxy has its own budget.
        #expect(try Self.signUp(g, "cat", forwardedFor: "203.0.113.6") == 201)
    }

    @Test func withoutTrustEveryClientOfTheProxySharesOneBudget() throws {
        let g = try Self.gateway(trustingLoopback: false)
        #expect(try Self.signUp(g, "amy", forwardedFor: "203.0.113.5") == 201)
        #expect(try Self.signUp(g, "cat", forwardedFor: "203.0.113.6") == 429)
    }

    /// Failed sign-ins on `/ws` count against the client found at the upgrade.
    @Test func failedWebSocketSignInsAreLimitedPerForwardedClient() throws {
        let g = try Self.gateway(trustingLoopback: true)
        func failedSignIn(_ c: PresenceConnection, _ n: Int) throws -> String? {
            try c.call("signIn", ["method": "password", "email": "nobody\(n)@example.com", "password": RunningGateway.password,
                                  "device": "web"])["code"] as? String
        }
        let guesser = try PresenceConnection(port: g.port, timeoutSeconds: 15, extraHeaders: "X-Forwarded-For: 203.0.113.5\r\n")
        #expect(try (0..<3).map { try failedSignIn(guesser, $0) } == ["invalid_credentials", "invalid_credentials", "rate_limited"])
        let other = try PresenceConnection(port: g.port, timeoutSeconds: 15, extraHeaders: "X-Forwarded-For: 203.0.113.6\r\n")
        #expect(try failedSignIn(other, 10) == "invalid_credentials")
    }
}
