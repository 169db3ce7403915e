/// Every setting of `presenced`, in `--help` order. The defaults are those of
/// `DaemonSettings()`, so the help cannot drift from the behaviour.
enum Settings {
    private static let d = DaemonSettings()

    // Listening
    static let host = Setting("host", "Address to listen on (IPv4 or IPv6 literal).", default: d.host)
    static let port = Setting("port", "Port for plain HTTP and ws:// (0 picks a free port).", default: "\(d.port)")
    static let tlsPort = Setting("tls-port", "Port for https:// and wss://; needs tls-cert and tls-key.", default: "off")
    static let tlsCert = Setting("tls-cert", "PEM certificate chain for TLS.", default: "none")
    static let tlsKey = Setting("tls-key", "PEM private key for TLS.", default: "none")
    static let loops = Setting("loops", "Event loops (threads); each accepts on its own SO_REUSEPORT socket.", default: "\(d.loops)")
    static let allowedOrigin = Setting(
        "allowed-origin", "A browser Origin allowed to upgrade; repeat for more. None given allows any.",
        default: "any", shape: .list(environmentSeparator: ","))
    static let trustedProxy = Setting(
        "trusted-proxy",
        "A reverse proxy (address or CIDR range) whose X-Forwarded-For names the client; repeat for more. The client is the right-most entry that is not a trusted proxy.",
        default: "none: the header is ignored", shape: .list(environmentSeparator: ","))
    static let echo = Setting("echo", "Serve the /echo WebSocket (conformance tests and load generator).", default: "\(d.echo)")

    // Limits and timeouts
    static let maxConnections = Setting(
        "max-connections", "Open connections in all; more are answered 503 and closed.", default: "\(d.maxConnections)")
    static let maxConnectionsPerAddress = Setting(
        "max-connections-per-address", "Open connections from one source address; more are answered 503 and closed.",
        default: "\(d.maxConnectionsPerAddress)")
    static let maxBufferedBytes = Setting(
        "max-buffered-bytes", "Bytes queued for one slow reader before it is closed with 1013.", default: "\(d.maxBufferedBytes)")
    static let echoMaxBufferedBytes = Setting(
        "echo-max-buffered-bytes", "Bytes queued for a slow reader of /echo before it is closed with 1013.",
        default: "\(d.echoMaxBufferedBytes)")
    static let heartbeatSeconds = Setting(
        "heartbeat-seconds", "Seconds without traffic before the server pings a WebSocket peer.", default: "\(d.heartbeatSeconds)")
    static let heartbeatTimeoutSeconds = Setting(
        "heartbeat-timeout-seconds", "Seconds a pinged peer has to answer before it is dropped.",
        default: "\(d.heartbeatTimeoutSeconds)")
    static let signInTimeoutSeconds = Setting(
        "sign-in-timeout-seconds", "Seconds a new /ws connection has to sign in.", default: "\(d.signInTimeoutSeconds)")
    static let shutdownGraceSeconds = Setting(
        "shutdown-grace-seconds", "Seconds clients get to finish the close handshake on SIGTERM (keep below systemd's TimeoutStopSec).",
        default: "\(d.shutdownGraceSeconds)")

    // HTTP and close limits
    static let maxRequestHeadBytes = Setting(
        "max-request-head-bytes", "The largest HTTP request head (request line and headers); more gets 431.",
        default: "\(d.maxRequestHeadBytes)")
    static let maxRequestBodyBytes = Setting(
        "max-request-body-bytes", "The largest plain HTTP request body (sign-up, password reset); more gets 413.",
        default: "\(d.maxRequestBodyBytes)")
    static let requestTimeoutSeconds = Setting(
        "request-timeout-seconds", "Seconds to send a complete HTTP request before 408 and close.",
        default: "\(d.requestTimeoutSeconds)")
    static let keepAliveSeconds = Setting(
        "keep-alive-seconds", "Seconds an idle keep-alive HTTP connection stays open.",
        default: "\(d.keepAliveSeconds)")
    static let closeTimeoutSeconds = Setting(
        "close-timeout-seconds", "Seconds a peer has to answer the server's Close before the socket is closed.",
        default: "\(d.closeTimeoutSeconds)")
    static let resetBurstPerAddress = Setting(
        "reset-burst-per-address", "Password-reset requests one address may make at once before it is limited.",
        default: "\(d.resetPerAddress.burst)")
    static let resetRefillSecondsPerAddress = Setting(
        "reset-refill-seconds-per-address", "Seconds for one more password-reset request per address once its burst is used.",
        default: "\(d.resetPerAddress.refillMilliseconds / 1000)")

    // Storage
    static let dataDir = Setting("data-dir", "Directory for the SQLite database and the mail spool.", default: d.dataDir)
    static let databaseFile = Setting("database-file", "The SQLite database file.", default: "DATA-DIR/presence.sqlite3")
    static let databaseUrl = Setting(
        "database-url", "Store everything in this PostgreSQL database (postgresql://USER@HOST:PORT/DB) instead of SQLite.",
        default: "none: the SQLite file")
    // Cluster
    static let clusterUrl = Setting(
        "cluster-url", "Join the gateway nodes that share this Redis (redis://HOST:PORT) into one service; needs --database-url.",
        default: "none: a single node")
    static let nodeLeaseSeconds = Setting(
        "node-lease-seconds", "In a cluster, how long this node's lease in Redis lasts; it is renewed about every second.",
        default: "5")
    static let mailSpoolDir = Setting(
        "mail-spool-dir", "Where mail is written when no sendmail program is set.", default: "DATA-DIR/mail")

    // Mail
    static let publicUrl = Setting("public-url", "Public base URL used in e-mailed links (password reset).", default: "http://HOST:PORT with the port actually bound")
    static let sendmail = Setting(
        "sendmail", "Send mail through this sendmail-compatible program (msmtp, postfix) instead of the spool directory.",
        default: "none")
    static let sendmailArg = Setting(
        "sendmail-arg", "An argument for sendmail; repeat for more.", default: d.sendmailArguments.joined(separator: " "),
        shape: .list(environmentSeparator: " "))

    // Sign in with Google
    static let googleClientId = Setting(
        "google-client-id", "Google OAuth client ID: turns on Sign in with Google (ID tokens must name it as audience).",
        default: "off")
    static let adminToken = Setting(
        "admin-token", "Bearer token of the /admin endpoints (sessions, kick, presence why); none turns them off. Prefer the file or PRESENCE_ADMIN_TOKEN to a flag.",
        default: "off")
    static let adminListen = Setting(
        "admin-listen", "Where /metrics and /admin are served, never on the public port: HOST:PORT, unix:/PATH or off.",
        default: d.adminListen.description)
    static let googleJwksFile = Setting(
        "google-jwks-file", "Google's JSON Web Key Set (RS256 keys) as a file, for offline use; re-read at most once a minute when a token names an unknown key. Replaces google-jwks-url.",
        default: "none")
    static let googleJwksUrl = Setting(
        "google-jwks-url", "Where Google's JSON Web Key Set is fetched over HTTPS (kept for its Cache-Control max-age; refetched, at most every 30 s, when a token names an unknown key).",
        default: d.googleJwksUrl)
    static let googleCaFile = Setting(
        "google-ca-file", "PEM CA certificates trusted for google-jwks-url instead of the system's; for tests and private CAs.",
        default: "system trust store")
    static let googleCreateAccounts = Setting(
        "google-create-accounts", "Google sign-in with a verified address that has no account creates one (false: answered account_not_found).",
        default: "\(d.googleCreateAccounts)")

    // Web client
    static let webRoot = Setting(
        "web-root", "Serve the web client at / from this directory instead of the files built in (development; re-read at each request).",
        default: "built in")

    // Presence
    static let idleMinutes = Setting("idle-minutes", "Minutes without user activity before a user shows Idle.", default: "\(d.idleMinutes)")
    static let disconnectGraceSeconds = Setting(
        "disconnect-grace-seconds", "Seconds a dropped session keeps counting as present while the client reconnects (carries a restart).",
        default: "\(d.disconnectGraceSeconds)")
    static let debounceMs = Setting(
        "debounce-ms", "Milliseconds a status change waits so contacts get the settled state once (0: publish at once).",
        default: "\(d.debounceMs)")
    static let opBurstPerSession = Setting(
        "op-burst-per-session", "Ops a session may send at once before it is limited (heartbeats and logOut never count; 0: no limit).",
        default: "\(d.opBurstPerSession)")
    static let presenceShards = Setting(
        "presence-shards", "Presence threads (1 to 64); each owns the users a hash of their ID places on it, and what crosses goes through the in-process ClusterBus.",
        default: "the number of cores (\(d.presenceShards) here)")
    static let opsPerSecondPerSession = Setting(
        "ops-per-second-per-session", "Ops a limited session gets back per second; past the burst an op is refused rate_limited with retryAfter (0: no limit).",
        default: "\(d.opsPerSecondPerSession)")
    static let ringTimeoutSeconds = Setting(
        "ring-timeout-seconds", "Seconds an unanswered call rings before it becomes a missed call.", default: "\(d.ringTimeoutSeconds)")
    static let subscriber = Setting(
        "subscriber", "A watch-only subscriber: KEY=NAME:user1@x,user2@x (repeatable). It signs in with method \"subscriber\" and KEY.",
        default: "none", shape: .list(environmentSeparator: ";"))

    // Rate limits (token buckets: a burst, then one more attempt per refill interval)
    static let signInBurstPerAccount = Setting(
        "sign-in-burst-per-account", "Failed sign-ins allowed at once per account.", default: "\(d.signInPerAccount.burst)")
    static let signInRefillSecondsPerAccount = Setting(
        "sign-in-refill-seconds-per-account", "Seconds until one more failed sign-in is allowed per account.",
        default: "\(d.signInPerAccount.refillMilliseconds / 1000)")
    static let signInBurstPerAddress = Setting(
        "sign-in-burst-per-address", "Failed sign-ins allowed at once per source address.", default: "\(d.signInPerAddress.burst)")
    static let signUpBurstPerAddress = Setting(
        "sign-up-burst-per-address", "Sign-ups allowed at once per source address (each costs a scrypt hash).",
        default: "\(d.signUpPerAddress.burst)")
    static let signUpRefillSecondsPerAddress = Setting(
        "sign-up-refill-seconds-per-address", "Seconds until one more sign-up is allowed per source address.",
        default: "\(d.signUpPerAddress.refillMilliseconds / 1000)")
    static let signInRefillSecondsPerAddress = Setting(
        "sign-in-refill-seconds-per-address", "Seconds until one more failed sign-in is allowed per source address.",
        default: "\(d.signInPerAddress.refillMilliseconds / 1000)")

    // Logging
    static let logLevel = Setting(
        "log-level", "Log level: trace, debug, info, notice, warning, error, critical.", default: d.logLevel.rawValue)

    static let all: [Setting] = [
        host, port, tlsPort, tlsCert, tlsKey, loops, allowedOrigin, trustedProxy, echo,
        maxConnections, maxConnectionsPerAddress, maxBufferedBytes, echoMaxBufferedBytes,
        heartbeatSeconds, heartbeatTimeoutSeconds, signInTimeoutSeconds, shutdownGraceSeconds,
        dataDir, databaseFile, databaseUrl, clusterUrl, nodeLeaseSeconds, mailSpoolDir,
        publicUrl, sendmail, sendmailArg,
        googleClientId, googleJwksFile, googleJwksUrl, googleCaFile, googleCreateAccounts, adminToken, adminListen, webRoot,
        idleMinutes, disconnectGraceSeconds, debounceMs, opBurstPerSession, opsPerSecondPerSession, presenceShards, ringTimeoutSeconds, subscriber,
        signInBurstPerAccount, signInRefillSecondsPerAccount, signInBurstPerAddress, signInRefillSecondsPerAddress,
        signUpBurstPerAddress, signUpRefillSecondsPerAddress,
        maxRequestHeadBytes, maxRequestBodyBytes, requestTimeoutSeconds, keepAliveSeconds, closeTimeoutSeconds,
        resetBurstPerAddress, resetRefillSecondsPerAddress,
        logLevel,
    ]

    static func named(_ name: String) -> Setting? { all.first { $0.name == name } }
}
