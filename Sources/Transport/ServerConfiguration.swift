/// Everything the transport needs to know; the gateway fills it from its configuration.
public struct ServerConfiguration: Sendable {
    /// One listening address.
    public struct Endpoint: Sendable {
        public var host: String
        public var port: Int
        /// Serve TLS (wss/https) on this endpoint; needs `tls`.
        public var isTLS: Bool
        /// Listen on this unix-domain socket path instead of `host:port`. A stale socket
        /// file at the path is replaced.
        public var unixPath: String?
        /// Served by the first event loop alone, and bound without `SO_REUSEPORT`, so that a
        /// second process cannot quietly share the address. For low-traffic listeners such
        /// as the operator's; unix-socket endpoints always are.
        public var isSingleLoop: Bool
        public init(host: String, port: Int, isTLS: Bool = false, isSingleLoop: Bool = false) {
            self.host = host
            self.port = port
            self.isTLS = isTLS
            self.isSingleLoop = isSingleLoop
        }

        /// A unix-domain socket endpoint (plain, first loop only).
        public init(unixPath: String) {
            self.init(host: "", port: 0, isSingleLoop: true)
            self.unixPath = unixPath
        }
    }

    /// PEM certificate chain and private key for TLS endpoints.
    public struct TLSFiles: Sendable {
        public var certificatePath: String
        public var privateKeyPath: String
        public init(certificatePath: String, privateKeyPath: String) {
            self.certificatePath = certificatePath
            self.privateKeyPath = privateKeyPath
        }
    }

    public var endpoints: [Endpoint] = [Endpoint(host: "127.0.0.1", port: 8080)]
    public var tls: TLSFiles?
    /// Event loops (threads); each accepts through its own `SO_REUSEPORT` socket.
    public var loopCount: Int = 1
    public var listenBacklog: Int32 = 4096
    /// Open connections accepted in all; more are answered 503 and closed.
    public var maxConnections: Int = 1_000_000
    /// Open connections accepted from one source address. A trusted proxy's connections
    /// are not limited by it at accept; a WebSocket through it counts against its forwarded
    /// client's address from the upgrade on.
    public var maxConnectionsPerAddress: Int = 100_000
    /// Peers whose `X-Forwarded-For` names the client (reverse proxies); none by default,
    /// so the header is ignored.
    public var trustedProxies = TrustedProxies()
    /// The largest request head (request line and headers).
    public var maxRequestHeadSize: Int = 8 * 1024
    /// The largest plain HTTP request body.
    public var maxRequestBodySize: Int = 64 * 1024
    /// Time to send a complete request head (and body) before 408 and close.
    public var requestTimeoutMilliseconds: Int64 = 10_000
    /// Idle keep-alive HTTP connections close after this long.
    public var keepAliveTimeoutMilliseconds: Int64 = 15_000
    /// After this long without hearing from a WebSocket peer, the server pings it.
    public var heartbeatIntervalMilliseconds: Int64 = 30_000
    /// A peer that answers nothing for this long after a ping is dropped.
    public var heartbeatTimeoutMilliseconds: Int64 = 10_000
    /// Time allowed for the peer's Close after ours before the socket is closed.
    public var closeTimeoutMilliseconds: Int64 = 5_000
    /// Wire bytes queued for one slow connection before it is closed with 1013.
    public var maxBufferedBytes: Int = 4 * 1024 * 1024
    /// Time given to clients to complete the close handshake on shutdown.
    public var shutdownGraceMilliseconds: Int64 = 5_000

    public init() {}
}
