import XCTest
@testable import Accounts

final class RateLimiterTests: XCTestCase {
    let clock = TestClock()

    func testAccountIsLimitedAfterBurstAndRefillsOverTime() {
        let limiter = RateLimiter(perAccount: RateLimit(burst: 3, refillMilliseconds: 60_000),
                                  perAddress: RateLimit(burst: 100, refillMilliseconds: 1_000), now: clock.now)
        for _ in 0..<3 {
            XCTAssertNil(limiter.retryAfter(account: "a@x.org", address: "10.0.0.1"))
            limiter.record(account: "a@x.org", address: "10.0.0.1")
        }
        XCTAssertEqual(limiter.retryAfter(account: "a@x.org", address: "10.0.0.9"), 60, "any address")
        XCTAssertNil(limiter.retryAfter(account: "b@x.org", address: "10.0.0.1"), "other accounts are free")
        clock.advance(seconds: 45)
        XCTAssertEqual(limiter.retryAfter(account: "a@x.org", address: "10.0.0.1"), 15)
        clock.advance(seconds: 15)
        XCTAssertNil(limiter.retryAfter(account: "a@x.org", address: "10.0.0.1"))
    }

    func testAddressIsLimitedAcrossAccounts() {
        let limiter = RateLimiter(perAccount: RateLimit(burst: 100, refillMilliseconds: 1_000),
                                  perAddress: RateLimit(burst: 2, refillMilliseconds: 30_000), now: clock.now)
        limiter.record(account: "a@x.org", address: "10.0.0.1")
        limiter.record(account: "b@x.org", address: "10.0.0.1")
        XCTAssertEqual(limiter.retryAfter(account: "c@x.org", address: "10.0.0.1"), 30)
        XCTAssertEqual(limiter.retryAfter(account: nil, address: "10.0.0.1"), 30)
        XCTAssertNil(limiter.retryAfter(account: "c@x.org", address: "10.0.0.2"))
    }

    func testClearingAnAccountKeepsTheAddressCount() {
        let limiter = RateLimiter(perAccount: RateLimit(burst: 1, refillMilliseconds: 60_000),
                                  perAddress: RateLimit(burst: 1, refillMilliseconds: 60_000), now: clock.now)
        limiter.record(account: "a@x.org", address: "10.0.0.1")
        limiter.clear(account: "a@x.org")
        XCTAssertNil(limiter.retryAfter(account: "a@x.org", address: "10.0.0.2"))
        XCTAssertEqual(limiter.retryAfter(account: "a@x.org", address: "10.0.0.1"), 60)
    }

    func testFullBucketsArePrunedPastTheThreshold() {
        let limiter = RateLimiter(perAccount: RateLimit(burst: 2, refillMilliseconds: 1_000),
                                  perAddress: RateLimit(burst: 2, refillMilliseconds: 1_000),
                                  pruneThreshold: 4, now: clock.now)
        limiter.record(account: "old@x.org", address: "1")
        clock.advance(seconds: 10)
        for i in 0..<3 { limiter.record(account: "n\(i)@x.org", address: "2") }
        // Still correct after pruning: the new account's bucket was kept.
        limiter.record(account: "n0@x.org", address: "3")
        XCTAssertNotNil(limiter.retryAfter(account: "n0@x.org", address: "4"))
        XCTAssertNil(limiter.retryAfter(account: "old@x.org", address: "1"))
    }
}
