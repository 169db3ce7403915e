import Accounts
import Foundation
import Gateway
import Logging
import Presence
import Transport

/// The daemon's effective configuration: every setting typed and checked. The property
/// defaults here are the documented defaults (`Settings` shows them in `--help`).
///
/// A small loader of our own rather than apple/swift-configuration: that package would add
/// its dependency tree to every CI build for what is a JSON object, some environment
/// variables and the flags swift-argument-parser already parses.
struct DaemonSettings {
    var host = "127.0.0.1"
    var port = 8080
    var tlsPort: Int?
    var tlsCert: String?
    var tlsKey: String?
    var loops = 1
    var allowedOrigins: [String] = []
    var trustedProxies = TrustedProxies()
    var echo = false
    var maxConnections = 1_000_000
    var maxConnectionsPerAddress = 100_000
    var maxBufferedBytes = 4 * 1024 * 1024
    var echoMaxBufferedBytes = 40 << 20
    var heartbeatSeconds = 30
    var heartbeatTimeoutSeconds = 10
    var signInTimeoutSeconds = 10
    var shutdownGraceSeconds = 5
    var dataDir = "data"
    var databaseFile: String?
    var databaseUrl: String?
    var clusterUrl: String?
    var nodeLeaseSeconds = 5
    var mailSpoolDir: String?
    var publicUrl: String?
    var sendmail: String?
    var sendmailArguments = ["-t", "-i"]
    var googleClientId: String?
    var googleJwksFile: String?
    var googleJwksUrl = "https://www.googleapis.com/oauth2/v3/certs"
    var googleCaFile: String?
    var googleCreateAccounts = true
    var adminToken: String?
    var webRoot: String?
    var adminListen = AdminListenAddress.tcp(host: "127.0.0.1", port: 9090)
    var idleMinutes = 5
    var disconnectGraceSeconds = 30
    var debounceMs = 1000
    var ringTimeoutSeconds = 45
    var opBurstPerSession = 60
    var presenceShards = min(64, max(1, ProcessInfo.processInfo.activeProcessorCount))
    var opsPerSecondPerSession = 10
    var subscribers: [String: GatewayConfiguration.Subscriber] = [:]
    var signInPerAccount = RateLimit.signInPerAccount
    var signInPerAddress = RateLimit.signInPerAddress
    var logLevel = Logger.Level.info
    var maxRequestHeadBytes = 8 * 1024
    var maxRequestBodyBytes = 64 * 1024
    var requestTimeoutSeconds = 10
    var keepAliveSeconds = 15
    var closeTimeoutSeconds = 5
    var resetPerAddress = RateLimit.resetPerAddress
    var signUpPerAddress = RateLimit.signUpPerAddress

    /// Resolves the sources, highest precedence last: defaults < file < environment < flags.
    /// - Parameters:
    ///   - configFile: the file named by `--config` or `PRESENCE_CONFIG`, if any.
    /// - Throws: `ConfigurationError`, the first problem found.
    static func load(flags: ConfigurationLayer, environment: [String: String], configFile: String?) throws(ConfigurationError) -> (DaemonSettings, ConfigurationLayer) {
        var layer = ConfigurationLayer()
        if let configFile { layer = try ConfigurationLayer.file(at: configFile) }
        layer = layer.overridden(by: .environment(environment)).overridden(by: flags)
        return (try DaemonSettings(layer, searchPath: environment["PATH"]), layer)
    }

    init() {}

    /// Types and checks every value in `layer`; settings it lacks keep their defaults.
    init(_ layer: ConfigurationLayer, searchPath: String?) throws(ConfigurationError) {
        let v = SettingReader(layer: layer)
        if let x = try v.text(Settings.host, allowed: "must be an IPv4 or IPv6 address literal (127.0.0.1, 0.0.0.0, ::)", isValid: Self.isAddressLiteral) { host = x }
        if let x = try v.integer(Settings.port, 0...65535) { port = x }
        tlsPort = try v.integer(Settings.tlsPort, 0...65535)
        tlsCert = try v.text(Settings.tlsCert, check: FileCheck.readableFileProblem) { "must be a readable PEM file (\($0))" }
        tlsKey = try v.text(Settings.tlsKey, check: FileCheck.readableFileProblem) { "must be a readable PEM file (\($0))" }
        if let x = try v.integer(Settings.loops, 1...256) { loops = x }
        if let x = try v.list(Settings.allowedOrigin) { allowedOrigins = x }
        for text in try v.list(Settings.trustedProxy) ?? [] {
            guard let range = AddressRange(parsing: text) else {
                throw .invalidValue(setting: Settings.trustedProxy.name, value: text, origin: layer[Settings.trustedProxy]!.origin,
                                    allowed: "must be an IPv4 or IPv6 address or a CIDR range with zero host bits (127.0.0.1, 10.0.0.0/8, fd00::/8)")
            }
            trustedProxies.ranges.append(range)
        }
        if let x = try v.boolean(Settings.echo) { echo = x }
        if let x = try v.integer(Settings.maxConnections, 1...10_000_000) { maxConnections = x }
        if let x = try v.integer(Settings.maxConnectionsPerAddress, 1...10_000_000) { maxConnectionsPerAddress = x }
        if let x = try v.integer(Settings.maxBufferedBytes, 1024...(1 << 30)) { maxBufferedBytes = x }
        if let x = try v.integer(Settings.echoMaxBufferedBytes, 1024...(1 << 30)) { echoMaxBufferedBytes = x }
        if let x = try v.integer(Settings.heartbeatSeconds, 1...3600) { heartbeatSeconds = x }
        if let x = try v.integer(Settings.heartbeatTimeoutSeconds, 1...3600) { heartbeatTimeoutSeconds = x }
        if let x = try v.integer(Settings.signInTimeoutSeconds, 1...600) { signInTimeoutSeconds = x }
        if let x = try v.integer(Settings.shutdownGraceSeconds, 0...300) { shutdownGraceSeconds = x }
        if let x = try v.text(Settings.dataDir, check: { $0.isEmpty ? "is empty" : FileCheck.usableDirectoryProblem($0) },
                              allowed: { "must be a writable directory, or a path where one can be created (\($0))" }) { dataDir = x }
        databaseFile = try v.text(Settings.databaseFile, allowed: "must be a file path", isValid: { !$0.isEmpty })
        databaseUrl = try v.text(Settings.databaseUrl, allowed: "must be a postgresql://USER@HOST:PORT/DB URL",
                                 isValid: { $0.hasPrefix("postgresql://") || $0.hasPrefix("postgres://") })
        try v.refuse(Settings.databaseUrl, together: Settings.databaseFile)
        clusterUrl = try v.text(Settings.clusterUrl, allowed: "must be a redis://HOST:PORT URL",
                                isValid: { $0.hasPrefix("redis://") && $0.count > "redis://".count })
        if let x = try v.integer(Settings.nodeLeaseSeconds, 1...300) { nodeLeaseSeconds = x }
        // Every node of a cluster reads and writes the same accounts, messages and statuses.
        try v.require(Settings.clusterUrl, needs: [Settings.databaseUrl])
        // A home names another node's connections with loop numbers from 128 up.
        if clusterUrl != nil, loops > 127 {
            throw .invalidValue(setting: Settings.loops.name, value: "\(loops)", origin: layer[Settings.loops]?.origin ?? "default",
                                allowed: "must be at most 127 on a cluster node (--cluster-url)")
        }
        mailSpoolDir = try v.text(Settings.mailSpoolDir, check: { $0.isEmpty ? "is empty" : FileCheck.usableDirectoryProblem($0) },
                                  allowed: { "must be a writable directory, or a path where one can be created (\($0))" })
        publicUrl = try v.text(Settings.publicUrl, allowed: "must be an http:// or https:// URL", isValid: Self.isWebURL)
        sendmail = try v.text(Settings.sendmail, check: { FileCheck.executableProblem($0, searchPath: searchPath) }) {
            "must be an executable program, a path or a name on PATH (\($0))"
        }
        if let x = try v.list(Settings.sendmailArg) { sendmailArguments = x }
        googleClientId = try v.text(Settings.googleClientId, allowed: "must not be empty", isValid: { !$0.isEmpty })
        adminToken = try v.text(Settings.adminToken, allowed: "must be at least 16 characters", isValid: { $0.count >= 16 })
        if let x = try v.text(Settings.adminListen, allowed: "must be HOST:PORT (an IP literal; IPv6 as [ADDR]:PORT), unix:/PATH or off",
                              isValid: { AdminListenAddress(parsing: $0) != nil }) {
            adminListen = AdminListenAddress(parsing: x)!
        }
        googleJwksFile = try v.text(Settings.googleJwksFile, check: FileCheck.readableFileProblem) { "must be a readable JSON Web Key Set file (\($0))" }
        if let x = try v.text(Settings.googleJwksUrl, allowed: "must be an https:// URL", isValid: Self.isHTTPSURL) { googleJwksUrl = x }
        googleCaFile = try v.text(Settings.googleCaFile, check: FileCheck.readableFileProblem) { "must be a readable PEM file (\($0))" }
        if let x = try v.boolean(Settings.googleCreateAccounts) { googleCreateAccounts = x }
        webRoot = try v.text(Settings.webRoot, check: { FileCheck.readableFileProblem($0 + "/index.html") }) {
            "must be a directory with an index.html (\($0))"
        }
        if let x = try v.integer(Settings.idleMinutes, 1...1440) { idleMinutes = x }
        if let x = try v.integer(Settings.disconnectGraceSeconds, 0...3600) { disconnectGraceSeconds = x }
        if let x = try v.integer(Settings.debounceMs, 0...60_000) { debounceMs = x }
        if let x = try v.integer(Settings.opBurstPerSession, 0...1_000_000) { opBurstPerSession = x }
        if let x = try v.integer(Settings.presenceShards, 1...64) { presenceShards = x }
        if let x = try v.integer(Settings.opsPerSecondPerSession, 0...1_000_000) { opsPerSecondPerSession = x }
        if let x = try v.integer(Settings.ringTimeoutSeconds, 5...600) { ringTimeoutSeconds = x }
        for text in try v.list(Settings.subscriber) ?? [] {
            guard let parsed = Self.parseSubscriber(text) else {
                // The key is a credential: the message shows only what follows it.
                let shown = text.firstIndex(of: "=").map { "***" + text[$0...] } ?? text
                throw .invalidValue(setting: Settings.subscriber.name, value: shown, origin: layer[Settings.subscriber]!.origin,
                                    allowed: "expected KEY=NAME:user1@example.com,user2@example.com")
            }
            subscribers[parsed.0] = parsed.1
        }
        if let x = try v.integer(Settings.signInBurstPerAccount, 1...1000) { signInPerAccount.burst = x }
        if let x = try v.integer(Settings.signInRefillSecondsPerAccount, 1...86_400) { signInPerAccount.refillMilliseconds = Int64(x) * 1000 }
        if let x = try v.integer(Settings.signInBurstPerAddress, 1...100_000) { signInPerAddress.burst = x }
        if let x = try v.integer(Settings.signInRefillSecondsPerAddress, 1...86_400) { signInPerAddress.refillMilliseconds = Int64(x) * 1000 }
        if let x = try v.integer(Settings.signUpBurstPerAddress, 1...100_000) { signUpPerAddress.burst = x }
        if let x = try v.integer(Settings.signUpRefillSecondsPerAddress, 1...86_400) { signUpPerAddress.refillMilliseconds = Int64(x) * 1000 }
        if let x = try v.integer(Settings.maxRequestHeadBytes, 1024...65536) { maxRequestHeadBytes = x }
        if let x = try v.integer(Settings.maxRequestBodyBytes, 1024...1_048_576) { maxRequestBodyBytes = x }
        if let x = try v.integer(Settings.requestTimeoutSeconds, 1...300) { requestTimeoutSeconds = x }
        if let x = try v.integer(Settings.keepAliveSeconds, 1...3600) { keepAliveSeconds = x }
        if let x = try v.integer(Settings.closeTimeoutSeconds, 1...120) { closeTimeoutSeconds = x }
        if let x = try v.integer(Settings.resetBurstPerAddress, 1...100_000) { resetPerAddress.burst = x }
        if let x = try v.integer(Settings.resetRefillSecondsPerAddress, 1...86_400) { resetPerAddress.refillMilliseconds = Int64(x) * 1000 }
        if let x = try v.text(Settings.logLevel, allowed: "must be one of trace, debug, info, notice, warning, error, critical",
                              isValid: { Logger.Level(rawValue: $0) != nil }) { logLevel = Logger.Level(rawValue: x)! }

        // Settings that only make sense together.
        try v.require(Settings.tlsPort, needs: [Settings.tlsCert, Settings.tlsKey])
        try v.require(Settings.tlsCert, needs: [Settings.tlsPort, Settings.tlsKey])
        try v.require(Settings.tlsKey, needs: [Settings.tlsPort, Settings.tlsCert])
        try v.require(Settings.googleJwksFile, needs: [Settings.googleClientId])
        try v.require(Settings.googleJwksUrl, needs: [Settings.googleClientId])
        try v.require(Settings.googleCaFile, needs: [Settings.googleClientId])
    }

    /// The gateway's configuration for these settings.
    func gatewayConfiguration() -> GatewayConfiguration {
        var config = GatewayConfiguration()
        config.server.endpoints = [.init(host: host, port: port)]
        if let tlsPort, let tlsCert, let tlsKey {
            config.server.endpoints.append(.init(host: host, port: tlsPort, isTLS: true))
            config.server.tls = .init(certificatePath: tlsCert, privateKeyPath: tlsKey)
        }
        config.server.loopCount = loops
        config.server.maxConnections = maxConnections
        config.server.maxConnectionsPerAddress = maxConnectionsPerAddress
        config.server.trustedProxies = trustedProxies
        config.server.maxBufferedBytes = maxBufferedBytes
        config.server.heartbeatIntervalMilliseconds = Int64(heartbeatSeconds) * 1000
        config.server.heartbeatTimeoutMilliseconds = Int64(heartbeatTimeoutSeconds) * 1000
        config.server.shutdownGraceMilliseconds = Int64(shutdownGraceSeconds) * 1000
        config.signInTimeoutSeconds = signInTimeoutSeconds
        config.server.maxRequestHeadSize = maxRequestHeadBytes
        config.server.maxRequestBodySize = maxRequestBodyBytes
        config.server.requestTimeoutMilliseconds = Int64(requestTimeoutSeconds) * 1000
        config.server.keepAliveTimeoutMilliseconds = Int64(keepAliveSeconds) * 1000
        config.server.closeTimeoutMilliseconds = Int64(closeTimeoutSeconds) * 1000
        config.resetLimiter = RateLimiter(perAccount: RateLimit.resetPerAccount, perAddress: resetPerAddress, now: systemMillisecondClock)
        config.signUpLimiter = RateLimiter(perAccount: signUpPerAddress, perAddress: signUpPerAddress, now: systemMillisecondClock)

        config.isEchoEnabled = echo
        config.echoMaxBufferedBytes = echoMaxBufferedBytes
        config.allowedOrigins = allowedOrigins
        config.dataDirectory = dataDir
        config.databaseFile = databaseFile
        config.databaseURL = databaseUrl
        config.clusterURL = clusterUrl
        config.nodeLeaseSeconds = nodeLeaseSeconds
        config.mailSpoolDirectory = mailSpoolDir
        config.presence.idleAfter = .seconds(idleMinutes * 60)
        config.presence.disconnectGrace = .seconds(disconnectGraceSeconds)
        config.presence.debounce = .milliseconds(debounceMs)
        config.presence.opBurst = opBurstPerSession
        config.presenceShards = presenceShards
        config.presence.opsPerSecond = opsPerSecondPerSession
        config.presence.ringTimeout = .seconds(ringTimeoutSeconds)
        // Nil: the gateway builds it from the host and the port it actually bound.
        config.publicBaseURL = publicUrl
        config.sendmailProgram = sendmail
        config.sendmailArguments = sendmailArguments
        config.adminToken = adminToken
        config.webRoot = webRoot
        config.operatorListener = adminListen.endpoint
        if let googleClientId {
            let keys: any JSONWebKeySetSource = if let googleJwksFile {
                FileKeySetSource(path: googleJwksFile)
            } else {
                HTTPSKeySetSource(url: googleJwksUrl, caFile: googleCaFile, onFailure: { reason in
                    Logger(label: "google-keys").warning("Google signing keys not fetched", metadata: ["reason": "\(reason)"])
                })
            }
            config.google = GoogleIDTokenVerifier(clientID: googleClientId, keys: keys)
        }
        config.accounts.createsAccountsForGoogleSignIn = googleCreateAccounts
        config.subscribers = subscribers
        config.signInLimiter = RateLimiter(perAccount: signInPerAccount, perAddress: signInPerAddress, now: systemMillisecondClock)
        return config
    }

    /// `KEY=NAME:user1,user2` → the key and the subscriber.
    static func parseSubscriber(_ text: String) -> (String, GatewayConfiguration.Subscriber)? {
        guard let eq = text.firstIndex(of: "="), let colon = text[eq...].firstIndex(of: ":") else { return nil }
        let key = String(text[..<eq])
        let name = String(text[text.index(after: eq)..<colon])
        let users = text[text.index(after: colon)...].split(separator: ",").map { UserID(email: String($0)) }
        guard !key.isEmpty, !name.isEmpty, !users.isEmpty, users.allSatisfy({ $0 != nil }) else { return nil }
        return (key, .init(name: name, allowed: Set(users.compactMap { $0 })))
    }

    static func isAddressLiteral(_ text: String) -> Bool { IPAddress(parsing: text) != nil }

    static func isHTTPSURL(_ text: String) -> Bool {
        guard let url = URL(string: text), url.scheme?.lowercased() == "https", let host = url.host else { return false }
        return !host.isEmpty
    }

    static func isWebURL(_ text: String) -> Bool {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), let host = url.host else { return false }
        return (scheme == "http" || scheme == "https") && !host.isEmpty
    }
}

/// Reads typed values out of a merged layer, turning every bad one into the one-line
/// `ConfigurationError.invalidValue`.
private struct SettingReader {
    let layer: ConfigurationLayer

    private func scalar(_ setting: Setting) throws(ConfigurationError) -> (String, String)? {
        guard let entry = layer[setting] else { return nil }
        switch entry.value {
        case .scalar(let text): return (text, entry.origin)
        case .list(let items):
            throw .invalidValue(setting: setting.name, value: items.joined(separator: ","), origin: entry.origin, allowed: "must be a single value")
        }
    }

    func integer(_ setting: Setting, _ range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
        guard let found = try scalar(setting) else { return nil }
        let (text, origin) = found
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), range.contains(value) else {
            throw .invalidValue(setting: setting.name, value: text, origin: origin, allowed: "must be an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    func boolean(_ setting: Setting) throws(ConfigurationError) -> Bool? {
        guard let found = try scalar(setting) else { return nil }
        let (text, origin) = found
        switch text.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw .invalidValue(setting: setting.name, value: text, origin: origin, allowed: "must be true or false (also 1/0, yes/no, on/off)")
        }
    }

    func text(_ setting: Setting, allowed: String, isValid: (String) -> Bool) throws(ConfigurationError) -> String? {
        guard let found = try scalar(setting) else { return nil }
        let (text, origin) = found
        guard isValid(text) else { throw .invalidValue(setting: setting.name, value: text, origin: origin, allowed: allowed) }
        return text
    }

    /// - Parameter check: nil when the value is fine, else the problem, which `allowed` words.
    func text(_ setting: Setting, check: (String) -> String?, allowed: (String) -> String) throws(ConfigurationError) -> String? {
        guard let found = try scalar(setting) else { return nil }
        let (text, origin) = found
        if let problem = check(text) { throw .invalidValue(setting: setting.name, value: text, origin: origin, allowed: allowed(problem)) }
        return text
    }

    func list(_ setting: Setting) throws(ConfigurationError) -> [String]? {
        guard let entry = layer[setting] else { return nil }
        switch entry.value {
        case .list(let items): return items
        case .scalar(let text): return [text]
        }
    }

    /// Fails when `setting` and `other` are both given: they say contradictory things.
    func refuse(_ setting: Setting, together other: Setting) throws(ConfigurationError) {
        guard let entry = layer[setting], case .scalar(let text) = entry.value, layer[other] != nil else { return }
        throw .invalidValue(setting: setting.name, value: text, origin: entry.origin,
                            allowed: "names the database, so \(other.name) must not be given too")
    }

    /// Fails when `setting` is given without every one of `others`.
    func require(_ setting: Setting, needs others: [Setting]) throws(ConfigurationError) {
        guard let entry = layer[setting], case .scalar(let text) = entry.value else { return }
        let missing = others.filter { layer[$0] == nil }
        guard missing.isEmpty else {
            throw .invalidValue(setting: setting.name, value: text, origin: entry.origin,
                                allowed: "needs " + missing.map(\.name).joined(separator: " and ") + " too")
        }
    }
}
