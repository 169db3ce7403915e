import ArgumentParser
import Foundation
import Gateway
import Glibc
import Logging
import Metrics
import Prometheus
import Transport

/// The presence gateway daemon.
///
/// Every setting comes, highest precedence first, from its flag, its `PRESENCE_…`
/// environment variable, the JSON file named by `--config`, or its default (see
/// `Configuration/`). Flags are parsed as text so that a bad value fails with the same
/// one-line message whichever source gave it.
struct Presenced: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "presenced",
        abstract: "The presence gateway: a WebSocket server for messenger clients.",
        discussion: """
            Each setting is read from its flag, else its environment variable PRESENCE_<NAME> \
            (upper case, - becomes _), else the key "<name>" of the JSON file given by --config \
            (or PRESENCE_CONFIG), else its default. An invalid configuration stops start-up with \
            one line naming the setting, the value and what is allowed, and exit status \(Self.configurationExitCode).
            """)

    /// sysexits.h EX_CONFIG: systemd's RestartPreventExitStatus can stop retrying on it.
    static let configurationExitCode: Int32 = 78

    @Option(help: "A JSON file of settings, keyed by the option names below (default: none; env PRESENCE_CONFIG).")
    var config: String?

    @Flag(help: "Check the configuration, print every setting with its value and source, and exit.")
    var checkConfig = false

    @Option(help: Settings.host.help) var host: String?
    @Option(help: Settings.port.help) var port: String?
    @Option(help: Settings.tlsPort.help) var tlsPort: String?
    @Option(help: Settings.tlsCert.help) var tlsCert: String?
    @Option(help: Settings.tlsKey.help) var tlsKey: String?
    @Option(help: Settings.loops.help) var loops: String?
    @Option(name: .customLong("allowed-origin"), help: Settings.allowedOrigin.help) var allowedOrigins: [String] = []
    @Option(name: .customLong("trusted-proxy"), help: Settings.trustedProxy.help) var trustedProxies: [String] = []
    @Flag(inversion: .prefixedNo, help: Settings.echo.help) var echo: Bool?
    @Option(help: Settings.maxConnections.help) var maxConnections: String?
    @Option(help: Settings.maxConnectionsPerAddress.help) var maxConnectionsPerAddress: String?
    @Option(help: Settings.maxBufferedBytes.help) var maxBufferedBytes: String?
    @Option(help: Settings.echoMaxBufferedBytes.help) var echoMaxBufferedBytes: String?
    @Option(help: Settings.heartbeatSeconds.help) var heartbeatSeconds: String?
    @Option(help: Settings.heartbeatTimeoutSeconds.help) var heartbeatTimeoutSeconds: String?
    @Option(help: Settings.signInTimeoutSeconds.help) var signInTimeoutSeconds: String?
    @Option(help: Settings.shutdownGraceSeconds.help) var shutdownGraceSeconds: String?
    @Option(help: Settings.dataDir.help) var dataDir: String?
    @Option(help: Settings.databaseFile.help) var databaseFile: String?
    @Option(help: Settings.databaseUrl.help) var databaseUrl: String?
    @Option(help: Settings.clusterUrl.help) var clusterUrl: String?
    @Option(help: Settings.nodeLeaseSeconds.help) var nodeLeaseSeconds: String?
    @Option(help: Settings.mailSpoolDir.help) var mailSpoolDir: String?
    @Option(help: Settings.publicUrl.help) var publicUrl: String?
    @Option(help: Settings.sendmail.help) var sendmail: String?
    @Option(name: .customLong("sendmail-arg"), help: Settings.sendmailArg.help) var sendmailArguments: [String] = []
    @Option(help: Settings.googleClientId.help) var googleClientId: String?
    @Option(help: Settings.googleJwksFile.help) var googleJwksFile: String?
    @Option(help: Settings.googleJwksUrl.help) var googleJwksUrl: String?
    @Option(help: Settings.googleCaFile.help) var googleCaFile: String?
    @Option(help: Settings.googleCreateAccounts.help) var googleCreateAccounts: String?
    @Option(help: Settings.adminToken.help) var adminToken: String?
    @Option(help: Settings.webRoot.help) var webRoot: String?
    @Option(help: Settings.adminListen.help) var adminListen: String?
    @Option(help: Settings.idleMinutes.help) var idleMinutes: String?
    @Option(help: Settings.disconnectGraceSeconds.help) var disconnectGraceSeconds: String?
    @Option(help: Settings.debounceMs.help) var debounceMs: String?
    @Option(help: Settings.opBurstPerSession.help) var opBurstPerSession: String?
    @Option(help: Settings.opsPerSecondPerSession.help) var opsPerSecondPerSession: String?
    @Option(help: Settings.presenceShards.help) var presenceShards: String?
    @Option(help: Settings.ringTimeoutSeconds.help) var ringTimeoutSeconds: String?
    @Option(name: .customLong("subscriber"), help: Settings.subscriber.help) var subscribers: [String] = []
    @Option(help: Settings.maxRequestHeadBytes.help) var maxRequestHeadBytes: String?
    @Option(help: Settings.maxRequestBodyBytes.help) var maxRequestBodyBytes: String?
    @Option(help: Settings.requestTimeoutSeconds.help) var requestTimeoutSeconds: String?
    @Option(help: Settings.keepAliveSeconds.help) var keepAliveSeconds: String?
    @Option(help: Settings.closeTimeoutSeconds.help) var closeTimeoutSeconds: String?
    @Option(help: Settings.resetBurstPerAddress.help) var resetBurstPerAddress: String?
    @Option(help: Settings.resetRefillSecondsPerAddress.help) var resetRefillSecondsPerAddress: String?
    @Option(help: Settings.signInBurstPerAccount.help) var signInBurstPerAccount: String?
    @Option(help: Settings.signInRefillSecondsPerAccount.help) var signInRefillSecondsPerAccount: String?
    @Option(help: Settings.signInBurstPerAddress.help) var signInBurstPerAddress: String?
    @Option(help: Settings.signInRefillSecondsPerAddress.help) var signInRefillSecondsPerAddress: String?
    @Option(help: Settings.signUpBurstPerAddress.help) var signUpBurstPerAddress: String?
    @Option(help: Settings.signUpRefillSecondsPerAddress.help) var signUpRefillSecondsPerAddress: String?
    @Option(help: Settings.logLevel.help) var logLevel: String?

    /// The settings given as flags.
    func flagLayer() -> ConfigurationLayer {
        var layer = ConfigurationLayer()
        func scalar(_ setting: Setting, _ value: String?) {
            if let value { layer.set(setting, .scalar(value), origin: setting.flag) }
        }
        func list(_ setting: Setting, _ values: [String]) {
            if !values.isEmpty { layer.set(setting, .list(values), origin: setting.flag) }
        }
        scalar(Settings.host, host)
        scalar(Settings.port, port)
        scalar(Settings.tlsPort, tlsPort)
        scalar(Settings.tlsCert, tlsCert)
        scalar(Settings.tlsKey, tlsKey)
        scalar(Settings.loops, loops)
        list(Settings.allowedOrigin, allowedOrigins)
        list(Settings.trustedProxy, trustedProxies)
        if let echo { layer.set(Settings.echo, .scalar("\(echo)"), origin: echo ? "--echo" : "--no-echo") }
        scalar(Settings.maxConnections, maxConnections)
        scalar(Settings.maxConnectionsPerAddress, maxConnectionsPerAddress)
        scalar(Settings.maxBufferedBytes, maxBufferedBytes)
        scalar(Settings.echoMaxBufferedBytes, echoMaxBufferedBytes)
        scalar(Settings.heartbeatSeconds, heartbeatSeconds)
        scalar(Settings.heartbeatTimeoutSeconds, heartbeatTimeoutSeconds)
        scalar(Settings.signInTimeoutSeconds, signInTimeoutSeconds)
        scalar(Settings.shutdownGraceSeconds, shutdownGraceSeconds)
        scalar(Settings.dataDir, dataDir)
        scalar(Settings.databaseFile, databaseFile)
        scalar(Settings.databaseUrl, databaseUrl)
        scalar(Settings.clusterUrl, clusterUrl)
        scalar(Settings.nodeLeaseSeconds, nodeLeaseSeconds)
        scalar(Settings.mailSpoolDir, mailSpoolDir)
        scalar(Settings.publicUrl, publicUrl)
        scalar(Settings.sendmail, sendmail)
        list(Settings.sendmailArg, sendmailArguments)
        scalar(Settings.googleClientId, googleClientId)
        scalar(Settings.googleJwksFile, googleJwksFile)
        scalar(Settings.googleJwksUrl, googleJwksUrl)
        scalar(Settings.googleCaFile, googleCaFile)
        scalar(Settings.googleCreateAccounts, googleCreateAccounts)
        scalar(Settings.webRoot, webRoot)
        scalar(Settings.adminToken, adminToken)
        scalar(Settings.adminListen, adminListen)
        scalar(Settings.idleMinutes, idleMinutes)
        scalar(Settings.disconnectGraceSeconds, disconnectGraceSeconds)
        scalar(Settings.debounceMs, debounceMs)
        scalar(Settings.opBurstPerSession, opBurstPerSession)
        scalar(Settings.opsPerSecondPerSession, opsPerSecondPerSession)
        scalar(Settings.presenceShards, presenceShards)
        scalar(Settings.ringTimeoutSeconds, ringTimeoutSeconds)
        list(Settings.subscriber, subscribers)
        scalar(Settings.maxRequestHeadBytes, maxRequestHeadBytes)
        scalar(Settings.maxRequestBodyBytes, maxRequestBodyBytes)
        scalar(Settings.requestTimeoutSeconds, requestTimeoutSeconds)
        scalar(Settings.keepAliveSeconds, keepAliveSeconds)
        scalar(Settings.closeTimeoutSeconds, closeTimeoutSeconds)
        scalar(Settings.resetBurstPerAddress, resetBurstPerAddress)
        scalar(Settings.resetRefillSecondsPerAddress, resetRefillSecondsPerAddress)
        scalar(Settings.signInBurstPerAccount, signInBurstPerAccount)
        scalar(Settings.signInRefillSecondsPerAccount, signInRefillSecondsPerAccount)
        scalar(Settings.signInBurstPerAddress, signInBurstPerAddress)
        scalar(Settings.signInRefillSecondsPerAddress, signInRefillSecondsPerAddress)
        scalar(Settings.signUpBurstPerAddress, signUpBurstPerAddress)
        scalar(Settings.signUpRefillSecondsPerAddress, signUpRefillSecondsPerAddress)
        scalar(Settings.logLevel, logLevel)
        return layer
    }

    func run() throws {
        // First, before anything can start a thread: threads inherit the mask, so SIGTERM
        // reaches only the thread that waits for it, never a loop thread.
        TerminationSignal.block()
        let environment = ProcessInfo.processInfo.environment
        let settings: DaemonSettings
        let sources: ConfigurationLayer
        do {
            (settings, sources) = try DaemonSettings.load(
                flags: flagLayer(), environment: environment, configFile: config ?? environment["PRESENCE_CONFIG"])
        } catch {
            Self.fail("presenced: \(error)", exitCode: Self.configurationExitCode)
        }
        if checkConfig {
            print(Self.describe(sources), terminator: "")
            return
        }

        let sharedLevel = SharedLogLevel(settings.logLevel)
        LoggingSystem.bootstrap { label in ReloadableLogHandler(label: label, shared: sharedLevel) }
        let log = Logger(label: "presenced")

        // Once, at start: libraries that record through swift-metrics land in the same
        // registry the gateway records into and `GET /metrics` renders.
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        var gatewayConfiguration = settings.gatewayConfiguration()
        gatewayConfiguration.metricsRegistry = registry

        let gateway: Gateway
        do {
            gateway = try Gateway(configuration: gatewayConfiguration)
        } catch {
            Self.fail("presenced: cannot start: \(error)", exitCode: 1)
        }
        gateway.start()
        let ports = gateway.ports.map(String.init).joined(separator: ",")
        log.info("listening", metadata: ["host": "\(settings.host)", "ports": "\(ports)", "loops": "\(settings.loops)",
                                         "admin": "\(settings.adminListen.bound(port: gateway.operatorPort))",
                                         "echo": "\(settings.echo)", "data": "\(settings.dataDir)",
                                         "storage": settings.databaseUrl == nil ? "sqlite" : "postgresql"])
        let signal = TerminationSignal.wait {
            // SIGHUP: read the configuration again and apply what can change without a
            // restart (the log level, the TLS certificate); connections stay open.
            do {
                let (reloaded, _) = try DaemonSettings.load(
                    flags: flagLayer(), environment: ProcessInfo.processInfo.environment,
                    configFile: config ?? ProcessInfo.processInfo.environment["PRESENCE_CONFIG"])
                sharedLevel.level = reloaded.logLevel
                if let cert = reloaded.tlsCert, let key = reloaded.tlsKey {
                    try gateway.reloadTLS(certificatePath: cert, privateKeyPath: key)
                }
                log.info("reloaded", metadata: ["log-level": "\(reloaded.logLevel)", "tls": "\(reloaded.tlsCert != nil)"])
            } catch {
                log.error("reload refused; keeping the running configuration", metadata: ["error": "\(error)"])
            }
        }
        log.info("draining", metadata: ["signal": "\(signal)", "connections": "\(gateway.connectionCount)"])
        gateway.shutdown()
        log.info("stopped")
        // A cluster node that lost its lease drained itself: exit 75 (EX_TEMPFAIL) so
        // the supervisor (`Restart=on-failure`) starts a fresh process under a new id.
        if gateway.lostClusterLease { Glibc.exit(75) }
    }

    /// One line on standard error, then exit: start-up failures must be one readable line.
    static func fail(_ line: String, exitCode: Int32) -> Never {
        let flat = line.split(whereSeparator: \.isNewline).joined(separator: " ")
        FileHandle.standardError.write(Data((flat + "\n").utf8))
        // _exit, not exit: a gateway that failed to bind has already started its storage
        // and worker threads, and exit's handlers could wait on them (a start-up failure
        // once hung instead of exiting). The message is written; there is nothing to flush.
        Glibc._exit(exitCode)
    }

    /// `name = value  # source` for every setting, as `--check-config` prints it.
    /// Subscriber keys are credentials and are masked.
    static func describe(_ sources: ConfigurationLayer) -> String {
        var text = ""
        for setting in Settings.all {
            guard let entry = sources[setting] else {
                text += "\(setting.name) = \(setting.defaultText)  # default\n"
                continue
            }
            var shown: String
            switch entry.value {
            case .scalar(let value): shown = ConfigurationError.secretSettings.contains(setting.name) ? "***" : value
            case .list(let values):
                let masked = setting == Settings.subscriber
                    ? values.map { v in v.firstIndex(of: "=").map { "***" + v[$0...] } ?? v } : values
                shown = "[" + masked.joined(separator: ", ") + "]"
            }
            if shown.isEmpty { shown = "\"\"" }
            text += "\(setting.name) = \(shown)  # \(entry.origin)\n"
        }
        return text
    }
}

Presenced.main()
