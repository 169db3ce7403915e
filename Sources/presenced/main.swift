import ArgumentParser
import Gateway
import Logging
import Transport
import Accounts
import Presence

/// The presence gateway daemon.
struct Presenced: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "presenced",
        abstract: "The presence gateway: a WebSocket server for messenger clients.")

    @Option(help: "Address to listen on (IPv4 or IPv6 literal).")
    var host = "127.0.0.1"

    @Option(help: "Port for plain HTTP and ws:// (0 picks a free port).")
    var port = 8080

    @Option(help: "Port for https:// and wss://; needs --tls-cert and --tls-key.")
    var tlsPort: Int?

    @Option(help: "PEM certificate chain for TLS.")
    var tlsCert: String?

    @Option(help: "PEM private key for TLS.")
    var tlsKey: String?

    @Option(help: "Event loops (threads); each accepts on its own SO_REUSEPORT socket.")
    var loops = 1

    @Flag(help: "Serve the /echo WebSocket (conformance tests and load generator).")
    var echo = false

    @Option(name: .customLong("allowed-origin"), help: "A browser Origin allowed to upgrade; repeat for more. None given allows any.")
    var allowedOrigins: [String] = []

    @Option(help: "Bytes queued for one slow reader before it is closed with 1013.")
    var maxBufferedBytes = 4 * 1024 * 1024

    @Option(help: "Bytes queued for a slow reader of /echo before it is closed with 1013.")
    var echoMaxBufferedBytes = 40 << 20

    @Option(help: "Seconds without traffic before the server pings a WebSocket peer.")
    var heartbeatSeconds = 30

    @Option(help: "Directory for the SQLite database and the mail spool.")
    var dataDir = "data"

    @Option(help: "Minutes without user activity before a user shows Idle.")
    var idleMinutes = 5

    @Option(help: "Milliseconds a status change waits so contacts get the settled state once (0: publish at once). Load tests use 0 to measure fan-out rather than this window.")
    var debounceMs = 1000

    @Option(help: "Public base URL used in e-mailed links (password reset).")
    var publicUrl: String?

    @Option(help: "Send mail through this sendmail-compatible program (msmtp, postfix) instead of the spool directory.")
    var sendmail: String?

    @Option(name: .customLong("sendmail-arg"), help: "An argument for --sendmail; repeat for more. Default: -t -i.")
    var sendmailArguments: [String] = []

    @Option(help: "Google OAuth client ID: turns on Sign in with Google (ID tokens must name it as audience).")
    var googleClientId: String?

    @Option(help: "Google's JSON Web Key Set (RS256 keys) as a file; re-read when it changes. Needed with --google-client-id.")
    var googleJwksFile: String?

    @Option(name: .customLong("subscriber"),
            help: "A watch-only subscriber: KEY=NAME:user1@x,user2@x (repeatable). It signs in with method \"subscriber\" and KEY.")
    var subscribers: [String] = []

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port \(port): must be 0...65535") }
        if let tlsPort, !(0...65535).contains(tlsPort) { throw ValidationError("--tls-port \(tlsPort): must be 0...65535") }
        if tlsPort != nil, tlsCert == nil || tlsKey == nil { throw ValidationError("--tls-port needs --tls-cert and --tls-key") }
        guard idleMinutes >= 1 else { throw ValidationError("--idle-minutes \(idleMinutes): must be at least 1") }
        guard (0...60_000).contains(debounceMs) else { throw ValidationError("--debounce-ms \(debounceMs): must be 0...60000") }
        guard (1...256).contains(loops) else { throw ValidationError("--loops \(loops): must be 1...256") }
        if googleClientId != nil, googleJwksFile == nil { throw ValidationError("--google-client-id needs --google-jwks-file") }
        for s in subscribers where Self.parseSubscriber(s) == nil {
            throw ValidationError("--subscriber \(s): expected KEY=NAME:user1@example.com,user2@example.com")
        }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level \(logLevel): must be one of trace, debug, info, notice, warning, error, critical")
        }
    }

    func run() throws {
        let level = Logger.Level(rawValue: logLevel)!
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        let log = Logger(label: "presenced")

        var config = GatewayConfiguration()
        config.server.endpoints = [.init(host: host, port: port)]
        if let tlsPort, let tlsCert, let tlsKey {
            config.server.endpoints.append(.init(host: host, port: tlsPort, isTLS: true))
            config.server.tls = .init(certificatePath: tlsCert, privateKeyPath: tlsKey)
        }
        config.server.loopCount = loops
        config.server.maxBufferedBytes = maxBufferedBytes
        config.server.heartbeatIntervalMilliseconds = Int64(heartbeatSeconds) * 1000
        config.isEchoEnabled = echo
        config.echoMaxBufferedBytes = echoMaxBufferedBytes
        config.allowedOrigins = allowedOrigins
        config.dataDirectory = dataDir
        config.presence.idleAfter = .seconds(idleMinutes * 60)
        config.presence.debounce = .milliseconds(debounceMs)
        config.publicBaseURL = publicUrl ?? "http://\(host):\(port)"
        config.sendmailProgram = sendmail
        if !sendmailArguments.isEmpty { config.sendmailArguments = sendmailArguments }
        if let googleClientId, let googleJwksFile {
            config.google = GoogleIDTokenVerifier(clientID: googleClientId, keys: FileKeySetSource(path: googleJwksFile))
        }
        for s in subscribers {
            let (key, subscriber) = Self.parseSubscriber(s)!
            config.subscribers[key] = subscriber
        }

        // Signals go to the thread that waits for them, never to a loop thread.
        TerminationSignal.block()
        let gateway = try Gateway(configuration: config)
        gateway.start()
        let ports = gateway.ports.map(String.init).joined(separator: ",")
        log.info("listening", metadata: ["host": "\(host)", "ports": "\(ports)", "loops": "\(loops)", "echo": "\(echo)", "data": "\(dataDir)"])
        let signal = TerminationSignal.wait()
        log.info("draining", metadata: ["signal": "\(signal)", "connections": "\(gateway.connectionCount)"])
        gateway.shutdown()
        log.info("stopped")
    }
}

extension Presenced {
    /// `KEY=NAME:user1,user2` → the key and the subscriber.
    static func parseSubscriber(_ text: String) -> (String, GatewayConfiguration.Subscriber)? {
        guard let eq = text.firstIndex(of: "="), let colon = text[eq...].firstIndex(of: ":") else { return nil }
        let key = String(text[..<eq])
        let name = String(text[text.index(after: eq)..<colon])
        let users = text[text.index(after: colon)...].split(separator: ",").map { UserID(email: String($0)) }
        guard !key.isEmpty, !name.isEmpty, !users.isEmpty, users.allSatisfy({ $0 != nil }) else { return nil }
        return (key, .init(name: name, allowed: Set(users.compactMap { $0 })))
    }
}

Presenced.main()
