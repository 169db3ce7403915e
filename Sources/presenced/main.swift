import ArgumentParser
import Gateway
import Logging
import Transport

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

    @Option(help: "Public base URL used in e-mailed links (password reset).")
    var publicUrl: String?

    @Option(help: "Send mail through this sendmail-compatible program (msmtp, postfix) instead of the spool directory.")
    var sendmail: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port \(port): must be 0...65535") }
        if let tlsPort, !(0...65535).contains(tlsPort) { throw ValidationError("--tls-port \(tlsPort): must be 0...65535") }
        if tlsPort != nil, tlsCert == nil || tlsKey == nil { throw ValidationError("--tls-port needs --tls-cert and --tls-key") }
        guard idleMinutes >= 1 else { throw ValidationError("--idle-minutes \(idleMinutes): must be at least 1") }
        guard (1...256).contains(loops) else { throw ValidationError("--loops \(loops): must be 1...256") }
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
        config.publicBaseURL = publicUrl ?? "http://\(host):\(port)"
        config.sendmailProgram = sendmail

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

Presenced.main()
