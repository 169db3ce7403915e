import CPosix
import Foundation
import Glibc
import WebSocket

/// The WebSocket and HTTP server: N event loops, each on its own thread with its own
/// listening sockets, plus the way other threads reach their connections.
public final class Server: Sendable {
    public let configuration: ServerConfiguration
    let loops: [EventLoop]
    let counter: ConnectionCounter
    let tlsBox: TLSContextBox
    let finished: DispatchGroup

    /// Opens the listening sockets (so bind errors surface here, at start-up).
    /// - Parameter makeHandler: makes the handler of loop `i`; called once per loop.
    public init(configuration: ServerConfiguration, makeHandler: (Int) -> ConnectionHandler) throws {
        self.configuration = configuration
        let tls = try configuration.tls.map { try TLSContext(certificatePath: $0.certificatePath, privateKeyPath: $0.privateKeyPath) }
        if configuration.endpoints.contains(where: \.isTLS), tls == nil {
            throw TransportError("a TLS endpoint needs a certificate and key")
        }
        counter = ConnectionCounter()
        tlsBox = TLSContextBox(tls)
        var config = configuration
        var loops: [EventLoop] = []
        for i in 0..<max(1, configuration.loopCount) {
            let loop = try EventLoop(index: i, config: config, tls: tlsBox, limits: counter)
            loop.handler = makeHandler(i)
            loops.append(loop)
            if i == 0 {
                // Port 0 means "any": the other loops must join the port the first one got.
                let ports = loop.boundPorts
                for k in config.endpoints.indices { config.endpoints[k].port = ports[k] }
            }
        }
        self.loops = loops
        finished = DispatchGroup()
        cposix_ignore_sigpipe()
    }

    /// The bound port of each endpoint, in order (useful when configured as 0).
    public var ports: [Int] { loops[0].boundPorts }

    /// Starts every loop on its own thread and returns.
    public func start() {
        for loop in loops {
            finished.enter()
            let thread = Thread { [finished] in
                _ = cposix_name_this_thread("loop-\(loop.index)")
                loop.run()
                finished.leave()
            }
            thread.name = "loop-\(loop.index)"
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Stops accepting, closes every WebSocket with 1001 and waits (at most the configured
    /// grace period, plus a second) for the loops to finish.
    public func shutdown() {
        for loop in loops { loop.enqueue(.shutdown) }
        _ = finished.wait(timeout: .now() + .milliseconds(Int(configuration.shutdownGraceMilliseconds) + 1000))
    }

    /// Blocks until every loop has stopped.
    public func wait() { finished.wait() }

    /// Open connections in all loops.
    public var connectionCount: Int { counter.total }

    // MARK: - Reaching connections from any thread

    /// The loop that owns `id`.
    public func loop(of id: ConnectionID) -> EventLoop { loops[id.loop] }

    /// Sends a message from any thread.
    public func send(_ id: ConnectionID, opcode: Opcode, payload: [UInt8]) {
        loops[id.loop].enqueue(.send(id, opcode, payload))
    }

    /// Sends `prefix(tag) + body` as one text message to each recipient, from any thread:
    /// one task per loop, the body encoded once and shared by reference until the loop
    /// copies it behind each recipient's frame header and prefix (`OutboundQueue`). Made
    /// for small events to many: a loop turn briefly holds recipients × body bytes.
    public func deliver(body: [UInt8], to recipients: [(ConnectionID, UInt64)], prefix: @escaping Prefixer) {
        if loops.count == 1 {
            loops[0].enqueue(.deliver(body: body, to: recipients, prefix: prefix))
            return
        }
        var byLoop = Array(repeating: [(ConnectionID, UInt64)](), count: loops.count)
        for r in recipients { byLoop[r.0.loop].append(r) }
        for (i, group) in byLoop.enumerated() where !group.isEmpty {
            loops[i].enqueue(.deliver(body: body, to: group, prefix: prefix))
        }
    }

    /// Runs `body` once on every loop, from any thread.
    public func executeOnEveryLoop(_ body: @escaping @Sendable (EventLoop) -> Void) {
        for loop in loops { loop.enqueue(.run(body)) }
    }

    /// Runs `body` on the loop that owns `id`, from any thread.
    public func execute(on id: ConnectionID, _ body: @escaping @Sendable (EventLoop) -> Void) {
        loops[id.loop].enqueue(.run(body))
    }

    /// Loads a new certificate and key (a renewed certificate) for TLS connections accepted
    /// from now on; open connections keep the context they started with. From any thread.
    /// - Throws: with OpenSSL's reason when the files do not load; nothing changes then.
    public func reloadTLS(certificatePath: String, privateKeyPath: String) throws {
        tlsBox.replace(with: try TLSContext(certificatePath: certificatePath, privateKeyPath: privateKeyPath))
    }

    /// Starts a close handshake from any thread.
    public func close(_ id: ConnectionID, code: CloseCode, reason: String) {
        loops[id.loop].enqueue(.close(id, code, reason))
    }
}

/// Waits for SIGTERM, SIGINT or SIGHUP. Call `block()` first, before any thread starts,
/// so the signals are delivered to the waiting thread and not to a random one.
public enum TerminationSignal {
    public static func block() {
        _ = cposix_block_signal(SIGTERM)
        _ = cposix_block_signal(SIGINT)
        _ = cposix_block_signal(SIGHUP)
    }

    /// Blocks the calling thread until SIGTERM or SIGINT arrives, calling `onHangUp` on the
    /// same thread for every SIGHUP meanwhile. - Returns: the terminating signal.
    public static func wait(onHangUp: () -> Void = {}) -> Int32 {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGHUP)
        while true {
            var sig: Int32 = 0
            guard sigwait(&set, &sig) == 0 else { continue }
            if sig == SIGHUP { onHangUp(); continue }
            return sig
        }
    }
}
