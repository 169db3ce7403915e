import Foundation
import Presence
import Storage

/// Carries what contacts were shown across a drain and restart (no flap on a rolling
/// restart). At drain, the public view of every user goes to `shown_presence`; at start,
/// rows younger than the disconnect grace go back into the core, which keeps showing them
/// until the grace (counted from the drain) ends and then publishes offline only for users
/// with no session by then. See Protocol/presence-rules.md, "Restarts".
enum RestartHandover {
    /// At drain, after the presence thread stopped and before the writer closes.
    static func persist(from runtime: GatewayRuntime) {
        guard let shown = runtime.presence.shownAfterStop() else {
            runtime.log.error("presence thread did not stop; what contacts were shown is not kept")
            return
        }
        // Stored times are wall-clock; the core's are monotonic (`PresenceClock`).
        let wall = runtime.presence.clock.mapping()
        let drainedAt = runtime.presence.clock.wall().milliseconds
        let rows = self.rows(shown, wall: wall)
        do {
            let isCluster = runtime.cluster != nil
            try runtime.writer.perform { db in
                // A cluster's nodes share the table: each adds its own users' rows.
                if isCluster {
                    try ShownPresenceStore(db).merge(rows, drainedAt: drainedAt, expiredBefore: 0)
                } else {
                    try ShownPresenceStore(db).replace(with: rows, drainedAt: drainedAt)
                }
            }
            runtime.log.info("kept what contacts were shown", metadata: ["users": "\(rows.count)"])
        } catch {
            runtime.log.error("what contacts were shown is not kept", metadata: ["error": "\(error)"])
        }
    }

    /// At start, before the presence thread and the listeners start.
    static func restore(into runtime: GatewayRuntime) {
        let now = runtime.presence.clock.wall().milliseconds
        let grace = runtime.configuration.presence.disconnectGraceMilliseconds
        let taken: [(row: ShownPresenceRow, drainedAt: Int64)]
        do {
            taken = try runtime.writer.perform { db in try ShownPresenceStore(db).take(drainedSince: now - grace) }
        } catch {
            runtime.log.error("what contacts were shown before the restart is lost", metadata: ["error": "\(error)"])
            return
        }
        show(taken, in: runtime, epoch: nil)
        if !taken.isEmpty {
            runtime.log.info("showing contacts what they saw before the restart", metadata: ["users": "\(taken.count)"])
        }
    }
}

extension RestartHandover {
    /// The rows that keep `shown`, with wall-clock times.
    static func rows(_ shown: [ShownPresence], wall: WallTimeMapping) -> [ShownPresenceRow] {
        shown.map {
            ShownPresenceRow(accountID: $0.user.email, status: $0.view.status.wireName,
                             lastSeen: $0.view.lastSeen.map { wall.wall($0).milliseconds })
        }
    }

    /// Hands the shards of `epoch` (nil: the current one), not started yet, the rows read,
    /// each shown until the grace counted from its drain ends.
    static func show(_ taken: [(row: ShownPresenceRow, drainedAt: Int64)], in runtime: GatewayRuntime, epoch: PresenceEpoch?) {
        let wall = runtime.presence.clock.mapping()
        let grace = runtime.configuration.presence.disconnectGraceMilliseconds
        // One drain writes one `drainedAt`; grouping keeps any other case correct too.
        var byDrain: [Int64: [ShownPresence]] = [:]
        for (row, drainedAt) in taken {
            guard let status = PresenceStatus(wireName: row.status), let user = UserID(email: row.accountID) else { continue }
            let view = PresenceView(status: status,
                                    lastSeen: status == .offline ? row.lastSeen.map { wall.core(wallMilliseconds: $0) } : nil)
            byDrain[drainedAt, default: []].append(ShownPresence(user: user, view: view))
        }
        for (drainedAt, shown) in byDrain {
            runtime.presence.restoreShown(shown, until: wall.core(wallMilliseconds: drainedAt + grace), in: epoch)
        }
    }
}

extension PresenceConfiguration {
    /// `disconnectGrace` in milliseconds.
    var disconnectGraceMilliseconds: Int64 {
        let c = disconnectGrace.components
        return c.seconds * 1000 + c.attoseconds / 1_000_000_000_000_000
    }
}

extension PresenceStatus {
    /// The status with this wire name, or `nil`.
    init?(wireName: String) {
        guard let status = PresenceStatus.allCases.first(where: { $0.wireName == wireName }) else { return nil }
        self = status
    }
}
