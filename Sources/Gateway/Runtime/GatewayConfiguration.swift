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
    /// A PostgreSQL database (`postgresql://USER@HOST:PORT/DB`) to use instead of the
    /// SQLite file; nil (the default) keeps the single-node SQLite setup.
    public var databaseURL: String?
    /// The Redis that joins this node into a cluster (`redis://HOST:PORT`); nil for a single
    /// node. Needs `databaseURL`: the nodes share one PostgreSQL database.
    public var clusterURL: String?
    /// How long this node's lease in Redis lasts (renewed about every second).
    public var nodeLeaseSeconds = 5
    /// This node's id in a cluster, which its session IDs, resume tokens and call IDs carry
    /// (`NodeQualifier`); `.single` (the default) for one node on its own, with plain IDs.
    /// The cluster's membership will set it when `--cluster-url` joins one (issue 10, not
    /// built yet); tests set it to show the forms.
    public var node = NodeQualifier.single
    /// Idle, grace, debounce, ring and other presence tunables.
    public var presence = PresenceConfiguration()
    /// Password policy, reset lifetime, mail templates.
    public var accounts = AccountsConfiguration()
    /// The wall clock of timestamps on the wire (milliseconds since the epoch). Tests
    /// freeze it, with `monotonicClock`, to compare transcripts byte for byte, or step it
    /// to show that deadlines do not follow it.
    public var clock: @Sendable () -> Instant = PresenceClock.systemWall
    /// The clock of every presence deadline: it never steps. See `PresenceClock`.
    public var monotonicClock: @Sendable () -> Instant = PresenceClock.systemMonotonic
    /// Inputs that may wait for one presence shard before client ops are refused with
    /// `overloaded` (see `Mailbox`).
    public var presenceMailboxCapacity = 65_536
    /// How long a chosen status other than Hidden waits to be stored together with those
    /// chosen after it (`PresenceThread.writeChosenStatuses`): 250 ms. A crash loses at most
    /// this window of such choices. Hidden is stored at once, with everything waiting.
    public var chosenStatusWriteDelay: Duration = .milliseconds(250)
    /// Presence shards: threads that each own the users placed on them by a hash of the
    /// user ID (see `PresenceShards`). 1 to 64; by default one per core.
    public var presenceShards = min(64, max(1, ProcessInfo.processInfo.activeProcessorCount))
    /// Jobs that may wait for the storage writer before it refuses them: a sign-in is then
    /// answered `overloaded`, a chat `storage_failed`. 65,536, `StorageWriter.defaultCapacity`
    /// (which says why legitimate load does not reach it).
    public var storageWriterCapacity = 65_536
    /// Jobs that may wait for the account workers before client work is refused with
    /// `overloaded` (see `WorkerPool`): 1,024, which legitimate load does not reach. The
    /// slow jobs are password and Google sign-ins (scrypt, ~100 ms each): at the default two
    /// threads, 1,024 of them are some 50 s of hashing, longer than a client waits for its
    /// reply. The others are a session's account ops (each session's op limit), sign-up and
    /// reset requests over HTTP (limited per address) and offline-mail notices.
    public var accountQueueCapacity = 1_024
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
    /// A directory served at `/` instead of the web client that ships with the binary
    /// (development); nil serves the bundled files.
    public var webRoot: String?
    /// Sign in with Google; nil turns it off.
    public var google: GoogleIDTokenVerifier?
    /// Failed sign-ins per account and per address; shared by every worker.
    public var signInLimiter = RateLimiter(perAccount: RateLimit.signInPerAccount, perAddress: RateLimit.signInPerAddress, now: systemMillisecondClock)
    /// Reset requests per e-mail and per address.
    public var resetLimiter = RateLimiter(perAccount: RateLimit.resetPerAccount, perAddress: RateLimit.resetPerAddress, now: systemMillisecondClock)
    /// Sign-ups per source address (the per-account half is unused).
    public var signUpLimiter = RateLimiter(perAccount: RateLimit.signUpPerAddress, perAddress: RateLimit.signUpPerAddress, now: systemMillisecondClock)
    /// Where mail goes: the spool directory (default `<dataDirectory>/mail`) unless
    /// `sendmailProgram` is set.
    public var mailSpoolDirectory: String?
    public var sendmailProgram: String?
    /// Arguments for `sendmailProgram`; the message goes to its standard input.
    public var sendmailArguments = ["-t", "-i"]
    /// The public base URL for links in mail (password reset); nil: `http://HOST:PORT` of
    /// the first endpoint with the port actually bound (so `port 0` still gives a link
    /// that works on this machine).
    public var publicBaseURL: String?
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

    /// `publicBaseURL`, or the first endpoint's scheme, host and bound port.
    /// - Parameter boundPorts: the port of each endpoint as bound, in order.
    func effectivePublicBaseURL(boundPorts: [Int]) -> String {
        if let publicBaseURL { return publicBaseURL }
        guard let endpoint = server.endpoints.first else { return "http://127.0.0.1" }
        let port = boundPorts.first ?? endpoint.port
        // RFC 3986 §3.2.2: an IPv6 literal goes in brackets.
        let host = endpoint.host.contains(":") ? "[\(endpoint.host)]" : endpoint.host
        return "\(endpoint.isTLS ? "https" : "http")://\(host):\(port)"
    }

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

extension GatewayConfiguration {
    /// The application heartbeat interval told to clients in `hello`: a little under the
    /// transport's ping interval, so a healthy client is never pinged.
    public var clientHeartbeatSeconds: Int { max(1, Int(server.heartbeatIntervalMilliseconds / 1000) - 5) }

    /// The presence tunables as the core runs them: the silence timeout, unless set, is
    /// two client heartbeat intervals (a session that sends nothing for that long is
    /// closed with 4006).
    var effectivePresence: PresenceConfiguration {
        var p = presence
        if p.silenceTimeout == .zero { p.silenceTimeout = .seconds(2 * clientHeartbeatSeconds) }
        return p
    }
}
