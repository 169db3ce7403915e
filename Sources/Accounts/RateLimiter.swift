import Foundation
import Synchronization

/// Milliseconds since the Unix epoch; injected so tests can move time.
public typealias MillisecondClock = @Sendable () -> Int64

/// The wall clock.
public func systemMillisecondClock() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Int64(now.tv_sec) * 1_000 + Int64(now.tv_nsec) / 1_000_000
}

/// A token bucket: `burst` attempts at once, then one more every `refillMilliseconds`.
public struct RateLimit: Sendable, Equatable {
    public var burst: Int
    public var refillMilliseconds: Int64

    public init(burst: Int, refillMilliseconds: Int64) {
        self.burst = burst
        self.refillMilliseconds = refillMilliseconds
    }

    /// Failed sign-ins per account: 5 at once, then one per 3 minutes (5 per 15 min).
    /// Slow enough to make online guessing useless, quick enough that the owner who
    /// mistyped is back in minutes.
    public static let signInPerAccount = RateLimit(burst: 5, refillMilliseconds: 180_000)
    /// Failed sign-ins per source address: 20 at once, then one per 30 s. Higher than
    /// per account because many users may share a NAT address.
    public static let signInPerAddress = RateLimit(burst: 20, refillMilliseconds: 30_000)
    /// Reset requests per e-mail: 3 at once, then one per 20 minutes (no mail bombing).
    public static let resetPerAccount = RateLimit(burst: 3, refillMilliseconds: 1_200_000)
    /// Reset requests per source address: 10 at once, then one per minute.
    public static let resetPerAddress = RateLimit(burst: 10, refillMilliseconds: 60_000)
    /// Sign-ups per source address: 10 at once, then one per minute. Each costs a scrypt
    /// hash (~100 ms, 32 MiB) on the threads that serve sign-in; a clinic signing up
    /// patients at one desk stays well under it.
    public static let signUpPerAddress = RateLimit(burst: 10, refillMilliseconds: 60_000)
}

/// Counts attempts per account and per source address, each in its own token bucket,
/// and says how long to wait once either is empty. Shared by every thread that signs
/// users in, hence the mutex; the work under it is a dictionary lookup.
///
/// An account key is whatever the client typed, normalised, whether or not an account
/// exists, so being limited reveals nothing about existence.
public final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updatedAt: Int64
    }

    private struct Buckets {
        var byAccount: [String: Bucket] = [:]
        var byAddress: [String: Bucket] = [:]
    }

    public let perAccount: RateLimit
    public let perAddress: RateLimit
    private let now: MillisecondClock
    private let buckets = Mutex(Buckets())
    /// Above this many keys, full buckets (which carry no information) are dropped.
    private let pruneThreshold: Int

    public init(perAccount: RateLimit, perAddress: RateLimit, pruneThreshold: Int = 100_000,
                now: @escaping MillisecondClock) {
        self.perAccount = perAccount
        self.perAddress = perAddress
        self.pruneThreshold = pruneThreshold
        self.now = now
    }

    /// Seconds to wait before the next attempt may be made, or nil if it may be made now.
    /// - Parameter account: nil for attempts that name no account (token sign-ins).
    public func retryAfter(account: String?, address: String) -> Int? {
        let time = now()
        return buckets.withLock { buckets in
            let waits = [
                account.flatMap { Self.wait(buckets.byAccount[$0], perAccount, time) },
                Self.wait(buckets.byAddress[address], perAddress, time),
            ].compactMap { $0 }
            return waits.max()
        }
    }

    /// Seconds to wait before `account` may make another attempt, looking at its own
    /// bucket only, or nil if it may.
    public func retryAfter(account: String) -> Int? {
        let time = now()
        return buckets.withLock { Self.wait($0.byAccount[account], perAccount, time) }
    }

    /// Spends one attempt from both buckets (a failed sign-in, or a reset request).
    public func record(account: String?, address: String) {
        let time = now()
        buckets.withLock { buckets in
            if let account { Self.spend(&buckets.byAccount, account, perAccount, time) }
            Self.spend(&buckets.byAddress, address, perAddress, time)
            if buckets.byAccount.count + buckets.byAddress.count > pruneThreshold {
                Self.prune(&buckets.byAccount, perAccount, time)
                Self.prune(&buckets.byAddress, perAddress, time)
            }
        }
    }

    /// Forgets the account's failures (after a successful sign-in). The address keeps
    /// its count: one good password must not unlock guessing at other accounts.
    public func clear(account: String) {
        _ = buckets.withLock { $0.byAccount.removeValue(forKey: account) }
    }

    private static func refilled(_ bucket: Bucket?, _ limit: RateLimit, _ time: Int64) -> Double {
        guard let bucket else { return Double(limit.burst) }
        let gained = Double(max(0, time - bucket.updatedAt)) / Double(limit.refillMilliseconds)
        return min(Double(limit.burst), bucket.tokens + gained)
    }

    private static func wait(_ bucket: Bucket?, _ limit: RateLimit, _ time: Int64) -> Int? {
        let tokens = refilled(bucket, limit, time)
        guard tokens < 1 else { return nil }
        let milliseconds = (1 - tokens) * Double(limit.refillMilliseconds)
        return max(1, Int((milliseconds / 1_000).rounded(.up)))
    }

    private static func spend(_ table: inout [String: Bucket], _ key: String, _ limit: RateLimit, _ time: Int64) {
        let tokens = refilled(table[key], limit, time)
        table[key] = Bucket(tokens: max(0, tokens - 1), updatedAt: time)
    }

    private static func prune(_ table: inout [String: Bucket], _ limit: RateLimit, _ time: Int64) {
        table = table.filter { refilled($0.value, limit, time) < Double(limit.burst) }
    }
}
