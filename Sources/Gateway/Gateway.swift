import Accounts
import Foundation
import Logging
import Transport

/// The whole gateway: event loops, the presence thread, account workers, the storage writer,
/// and the mail outbox, wired together.
///
/// ```swift
/// let gateway = try Gateway(configuration: config)   // binds, opens and migrates the database
/// gateway.start()
/// ... TerminationSignal.wait()
/// gateway.shutdown()                                  // drains, flushes, stops
/// ```
public final class Gateway: Sendable {
    let runtime: GatewayRuntime
    let outbox: OutboxThread

    /// Opens storage and binds every listening socket, so configuration errors surface here.
    public init(configuration: GatewayConfiguration) throws {
        let runtime = try GatewayRuntime(configuration: configuration)
        self.runtime = runtime
        runtime.presence = PresenceShards(count: configuration.presenceShards, configuration: configuration.effectivePresence,
                                          runtime: runtime)
        var handlers: [GatewayHandler] = []
        runtime.server = try Server(configuration: configuration.serverWithOperatorListener) { _ in
            let h = GatewayHandler(runtime: runtime)
            handlers.append(h)
            return h
        }
        runtime.handlers = handlers
        try runtime.startAccountWorkers(publicBaseURL: configuration.effectivePublicBaseURL(boundPorts: runtime.server.ports))
        outbox = try OutboxThread(configuration: configuration, metrics: runtime.metrics)
        if let url = configuration.clusterURL {
            // Joins before anything is served: the node's id names its sessions and calls,
            // and the first epoch places its users (ClusterNode).
            let node = try ClusterNode(url: url, leaseSeconds: configuration.nodeLeaseSeconds, runtime: runtime)
            runtime.cluster = node
            runtime.presence.cluster = node
            try node.join()
        }
    }

    /// This node's id in a cluster; nil for a single node.
    public var clusterNode: UInt64? { runtime.cluster?.node }

    /// Whether this cluster node drained because it lost its lease (the process should
    /// exit with a failure, so that its supervisor starts it again).
    public var lostClusterLease: Bool { runtime.cluster?.lostLease ?? false }

    /// The bound port of each public endpoint, in order.
    public var ports: [Int] { Array(runtime.server.ports.prefix(runtime.configuration.server.endpoints.count)) }

    /// The bound port of the operator listener (`/metrics`, `/admin/…`); nil without one,
    /// 0 for a unix socket.
    public var operatorPort: Int? { runtime.configuration.operatorEndpointIndex.map { runtime.server.ports[$0] } }

    /// Open connections.
    public var connectionCount: Int { runtime.server.connectionCount }

    /// Loads a renewed TLS certificate for new connections; open ones are not dropped.
    public func reloadTLS(certificatePath: String, privateKeyPath: String) throws {
        try runtime.server.reloadTLS(certificatePath: certificatePath, privateKeyPath: privateKeyPath)
    }

    public func start() {
        // Before any sign-in can reach the core: contacts keep seeing what they saw. (A
        // cluster node's first epoch read the rows every node shares when it joined.)
        if runtime.cluster == nil { RestartHandover.restore(into: runtime) }
        runtime.presence.start()
        outbox.start()
        runtime.server.start()
    }

    /// Drains: not ready, Close 1001 to every client, keeps what contacts are shown of
    /// each user (the next process shows it through the disconnect grace, so a restart
    /// shows contacts nothing), then flushes storage and stops the workers.
    public func shutdown() {
        runtime.draining.store(true, ordering: .relaxed)
        runtime.server.shutdown()
        runtime.presence.stop()
        // After the thread ended, so the core is final; before the writer closes.
        RestartHandover.persist(from: runtime)
        // Then the lease goes, and the other nodes re-place at once, reading those rows.
        runtime.cluster?.leave()
        runtime.accounts.stop()
        runtime.writer.close()
        outbox.stop()
    }
}
