import Accounts
import CoreMetrics
import Foundation
import Presence
import Transport
import WebSocket

/// The gateway's routes on one event loop: plain HTTP endpoints and the WebSocket routes.
/// Called only on that loop's thread. It keeps no table of connections: each connection's
/// phase and session sit in the transport's handler word (`ConnectionWord`).
///
/// Routes: `/ws` (the JSON protocol, subprotocol `presence.v1`), `/echo` (with `--echo`),
/// `GET /healthz`, `GET /readyz`, `POST /v1/accounts`, `POST /v1/password-reset`,
/// `GET /reset`, `POST /v1/password-reset/confirm`; on the operator listener `GET /metrics`
/// and `/admin/…`. See Protocol/README.md.
public final class GatewayHandler: ConnectionHandler {
    /// Route numbers handed to the transport at upgrade.
    enum Route: Int {
        case echo = 1
        case presence = 2
    }

    let runtime: GatewayRuntime
    let decoder = ClientOpDecoder()
    /// Connections in the order they must sign in by (all get the same allowance).
    /// `signingIn`: armed when a cluster node's sign-in crossed to its home (`GatewayRuntime.awaitHome`),
    /// not when the connection opened.
    var signInDeadlines: [(deadline: Int64, id: ConnectionID, signingIn: Bool)] = []
    var signInDeadlineHead = 0
    let hello: [UInt8]
    /// This loop's metric tallies, published once per `tick` (never per frame).
    var published = PublishedLoopMetrics()
    /// `presence_closes_total` by close code, made on first use.
    var closeCounters: [UInt16: CoreMetrics.Counter] = [:]

    /// Limits of the `/echo` route: large enough for Autobahn's 16 MiB cases.
    var echoLimits: MessageLimits {
        MessageLimits(maxFrameSize: 16 << 20, maxMessageSize: 16 << 20, maxBufferedBytes: runtime.configuration.echoMaxBufferedBytes)
    }
    static let presenceLimits = MessageLimits(maxFrameSize: WireProtocol.maxMessageBytes, maxMessageSize: WireProtocol.maxMessageBytes)

    init(runtime: GatewayRuntime) {
        self.runtime = runtime
        let c = runtime.configuration
        hello = ServerHello(server: "presenced/0.1.0", heartbeatSeconds: c.clientHeartbeatSeconds,
                            resumeWindowSeconds: Int(c.presence.disconnectGrace.components.seconds),
                            signInTimeoutSeconds: c.signInTimeoutSeconds).encoded()
    }

    // MARK: - WebSocket routes

    public func route(_ head: HTTPRequestHead, remoteAddress: String, endpoint: Int) -> UpgradeDecision {
        guard endpoint != runtime.configuration.operatorEndpointIndex else {
            return .reject(.error(404, code: "not_found", message: "no WebSocket endpoint on the operator listener"))
        }
        return route(head, remoteAddress: remoteAddress)
    }

    public func route(_ head: HTTPRequestHead, remoteAddress: String) -> UpgradeDecision {
        let origins = runtime.configuration.allowedOrigins
        switch head.path {
        case WireProtocol.route[...]:
            return .accept(policy: Handshake.Policy(subprotocols: [WireProtocol.subprotocol], requiresSubprotocol: true,
                                                    allowedOrigins: origins, allowsCompression: true),
                           limits: Self.presenceLimits, route: Route.presence.rawValue)
        case "/echo" where runtime.configuration.isEchoEnabled:
            return .accept(policy: Handshake.Policy(allowedOrigins: origins, allowsCompression: true),
                           limits: echoLimits, route: Route.echo.rawValue)
        default:
            return .reject(.error(404, code: "not_found", message: "no WebSocket endpoint at \(head.path)"))
        }
    }

    public func opened(_ id: ConnectionID, route: Int, subprotocol: String?, on loop: EventLoop) {
        guard route == Route.presence.rawValue else { return }
        loop.setHandlerWord(ConnectionWord.awaitingSignIn.raw, for: id)
        armSignInDeadline(id, on: loop)
        hello.withUnsafeBytes { loop.send(id, opcode: .text, payload: $0) }
    }

    public func received(_ id: ConnectionID, opcode: Opcode, payload: UnsafeRawBufferPointer, on loop: EventLoop) {
        let word = ConnectionWord(loop.handlerWord(id) ?? 0)
        guard word.phase != .none else {
            // Not a presence connection: the echo route.
            loop.send(id, opcode: opcode, payload: payload)
            return
        }
        guard opcode == .text else {
            reply(id, ReplyEncoder.rejection(ClientOpDecoder.binaryFrameRejection), on: loop)
            return
        }
        // A session of an epoch a cluster's re-placement replaced: its ID may name another
        // user's session in the new epoch, so nothing it sends goes anywhere. The
        // re-placement closes it anyway; this closes it first.
        if word.phase == .user || word.phase == .subscriber, runtime.cluster != nil,
           word.epochParity != runtime.presence.currentSerial & 1 {
            loop.close(id, code: .serviceRestart, reason: "cluster_changed")
            return
        }
        // A session homed on another node of a cluster: its home reads the op.
        if word.phase == .user, let cluster = runtime.cluster,
           cluster.forwardOp(payload, session: word.session, device: word.device, from: id, remoteAddress: loop.remoteAddress(id) ?? "") {
            return
        }
        let request: ClientRequest
        do {
            request = try decoder.decode(payload, from: word.session)
        } catch {
            reply(id, ReplyEncoder.rejection(error), on: loop)
            return
        }
        dispatch(request, from: id, word: word, remoteAddress: loop.remoteAddress(id) ?? "", on: loop)
    }

    public func closed(_ id: ConnectionID, code: CloseCode, on loop: EventLoop) {
        countClose(code)
        let word = ConnectionWord(loop.handlerWord(id) ?? 0)
        switch word.phase {
        case .user:
            published.sessionsByDevice[Int(word.device.rawValue)] -= 1
        case .subscriber:
            published.sessionsByDevice[GatewayMetrics.subscriberIndex] -= 1
        case .none, .awaitingSignIn, .signingIn:
            return
        }
        // A session of an epoch a cluster's re-placement replaced is gone already.
        guard word.epochParity == runtime.presence.currentSerial & 1 else { return }
        // Closing the app logs out: the session ends after the grace period, unless it
        // resumes first. The device token stays valid.
        runtime.presence.post(.connectionLost(word.session, id))
    }

    public func tick(on loop: EventLoop) {
        // The loop counts messages in plain integers on the hot path; they reach the shared
        // (atomic) metrics here, once a second, as deltas.
        published.publish(loop, to: runtime.metrics)
        ThreadCacheFlush.flushNow()
        // Deadlines were appended in time order: expire from the front.
        while signInDeadlineHead < signInDeadlines.count, signInDeadlines[signInDeadlineHead].deadline <= loop.now {
            let (_, id, armedSigningIn) = signInDeadlines[signInDeadlineHead]
            signInDeadlineHead += 1
            switch loop.handlerWord(id).map({ ConnectionWord($0).phase }) {
            case .awaitingSignIn?:
                let code = GatewayCloseCode.signInTimeout
                reply(id, ReplyEncoder.closing(code), on: loop)
                loop.close(id, code: code.closeCode, reason: code.reason)
            case .signingIn? where armedSigningIn:
                // Armed again when the sign-in crossed to its home (cluster nodes only): no
                // answer in a whole allowance since, so its home lost it in a re-placement.
                loop.close(id, code: .serviceRestart, reason: "cluster_changed")
            default:
                break
            }
        }
        if signInDeadlineHead == signInDeadlines.count, signInDeadlineHead > 0 {
            // All expired or answered: a storm's capacity is not kept.
            signInDeadlines.removeAll(keepingCapacity: signInDeadlines.capacity <= 1024)
            signInDeadlineHead = 0
        } else if signInDeadlineHead > 1024, signInDeadlineHead * 2 > signInDeadlines.count {
            signInDeadlines.removeFirst(signInDeadlineHead)
            signInDeadlineHead = 0
        }
    }

    func reply(_ id: ConnectionID, _ bytes: [UInt8], on loop: EventLoop) {
        bytes.withUnsafeBytes { loop.send(id, opcode: .text, payload: $0) }
    }

    // MARK: - Called back on this loop by other threads

    func signedIn(_ id: ConnectionID, session: SessionID, device: Presence.DeviceKind?, epochParity: UInt64, on loop: EventLoop) {
        guard let raw = loop.handlerWord(id) else {
            // The connection closed while its sign-in was checked.
            runtime.presence.post(.connectionLost(session, id))
            return
        }
        let word = ConnectionWord(raw)
        if word.phase == .signingIn { runtime.metrics.signIn(word.method, isOK: true) }
        if let device {
            loop.setHandlerWord(ConnectionWord.user(session, device: device, epochParity: epochParity).raw, for: id)
            published.sessionsByDevice[Int(device.rawValue)] += 1
        } else {
            loop.setHandlerWord(ConnectionWord.subscriber(session, epochParity: epochParity).raw, for: id)
            published.sessionsByDevice[GatewayMetrics.subscriberIndex] += 1
        }
    }

    func signInFailed(_ id: ConnectionID, on loop: EventLoop) {
        guard let raw = loop.handlerWord(id), ConnectionWord(raw).phase == .signingIn else { return }
        runtime.metrics.signIn(ConnectionWord(raw).method, isOK: false)
        loop.setHandlerWord(ConnectionWord.awaitingSignIn.raw, for: id)
        // A fresh allowance from the failure: the first one may have run out while the
        // attempt was being checked.
        armSignInDeadline(id, on: loop)
    }

    func countClose(_ code: CloseCode) {
        if let counter = closeCounters[code.rawValue] {
            counter.increment()
        } else {
            let counter = runtime.metrics.closes(code: code)
            closeCounters[code.rawValue] = counter
            counter.increment()
        }
    }

    /// Every entry gets the same allowance, so appending keeps the queue in time order.
    func armSignInDeadline(_ id: ConnectionID, signingIn: Bool = false, on loop: EventLoop) {
        signInDeadlines.append((loop.now + Int64(runtime.configuration.signInTimeoutSeconds) * 1000, id, signingIn))
    }
}
