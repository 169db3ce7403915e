import Accounts
import Foundation
import Presence
import Prometheus
import Transport

/// Everything the gateway needs at start-up, with defaults that work out of the box.
public struct GatewayConfiguration: Sendable {
    /// Listening, TLS, loops, limits, timeouts.
    public var server = ServerConfiguration()
    /// Where the SQLite file and the mail spool live.
    public var dataDirectory = "data"
    /// The SQLite file; default `<dataDirectory>/presence.sqlite3`.
    public var databaseFile: String?
    /// Idle, grace, debounce, ring and other presence tunables.
    public var presence = PresenceConfiguration()
    /// Password policy, reset lifetime, mail templates.
    public var accounts = AccountsConfiguration()
    /// The presence clock (milliseconds since the epoch). Tests freeze it to compare
    /// transcripts byte for byte.
    public var clock: @Sendable () -> Instant = { PresenceThread.wallClock() }
    /// Password hashing cost (scrypt); tests lower it.
    public var passwordHasher = PasswordHasher()
    /// Threads for blocking account work (scrypt costs ~32 MiB and ~100 ms each).
    public var accountThreads = 2
    /// Serve the `/echo` WebSocket.
    public var isEchoEnabled = false
    /// Bytes queued for a slow reader of `/echo` before it is closed with 1013. Autobahn
    /// echoes 16 MiB messages, so the default leaves room for two of them.
    public var echoMaxBufferedBytes = 40 << 20
    /// Allowed browser origins for upgrades; empty allows any.
    public var allowedOrigins: [String] = []
    /// Watch-only subscribers: key → (name, the users it may watch).
    public var subscribers: [String: Subscriber] = [:]
    /// The bearer token of the `/admin/…` endpoints; nil turns them off (404).
    public var adminToken: String?
    /// Where `/metrics` and `/admin/…` are served: a listener of their own, never the public
    /// one (which answers them 404). A TCP address (served by the first event loop, bound
    /// without `SO_REUSEPORT`; TLS with `isTLS` and `server.tls`) or a unix socket
    /// (`Endpoint(unixPath:)`); nil serves them nowhere. presenced's `admin-listen`
    /// defaults to 127.0.0.1:9090.
    public var operatorListener: ServerConfiguration.Endpoint?
    /// Seconds a new `/ws` connection has to sign in.
    public var signInTimeoutSeconds = 10
    /// Sign in with Google; nil turns it off.
    public var google: GoogleIDTokenVerifier?
    /// Failed sign-ins per account and per address; shared by every worker.
    public var signInLimiter = RateLimiter(perAccount: RateLimit.signInPerAccount, perAddress: RateLimit.signInPerAddress, now: systemMillisecondClock)
    /// Reset requests per e-mail and per address.
    public var resetLimiter = RateLimiter(perAccount: RateLimit.resetPerAccount, perAddress: RateLimit.resetPerAddress, now: systemMillisecondClock)
    /// Where mail goes: the spool directory (default `<dataDirectory>/mail`) unless
    /// `sendmailProgram` is set.
    public var mailSpoolDirectory: String?
    public var sendmailProgram: String?
    /// Arguments for `sendmailProgram`; the message goes to its standard input.
    public var sendmailArguments = ["-t", "-i"]
    /// The public base URL for links in mail (password reset).
    public var publicBaseURL = "http://127.0.0.1:8080"
    /// Where the gateway records its metrics, rendered by `GET /metrics` in Prometheus text
    /// format; nil records nothing and `/metrics` answers 404. The gateway records into this
    /// registry directly (not through the global `MetricsSystem`), so tests can each use their own.
    public var metricsRegistry: PrometheusCollectorRegistry?

    /// A watch-only principal, such as a clinic dashboard.
    public struct Subscriber: Sendable {
        public var name: String
        public var allowed: Set<UserID>
        public init(name: String, allowed: Set<UserID>) {
            self.name = name
            self.allowed = allowed
        }
    }

    public init() {}

    /// The index of the operator listener among the server's endpoints, when there is one.
    var operatorEndpointIndex: Int? { operatorListener == nil ? nil : server.endpoints.count }

    /// The server's endpoints with the operator listener last.
    var serverWithOperatorListener: ServerConfiguration {
        var server = self.server
        if var endpoint = operatorListener {
            endpoint.isSingleLoop = true
            server.endpoints.append(endpoint)
        }
        return server
    }

    var databasePath: String { databaseFile ?? (dataDirectory as NSString).appendingPathComponent("presence.sqlite3") }
    var spoolPath: String { mailSpoolDirectory ?? (dataDirectory as NSString).appendingPathComponent("mail") }
}
