import Foundation
import Presence

// The presence thread's two touch points with a restart: the core is read after the thread
// ended and written before it starts, so neither needs a message to the thread.

extension PresenceThread {
    /// Hands the core what contacts were shown before the restart. Call before `start()`:
    /// starting the thread publishes this write to it.
    func restoreShown(_ rows: [ShownPresence], until: Instant) {
        var ignored: [Effect] = []  // no sessions exist yet, so nothing can be delivered
        try? core.apply(.restoreShown(rows, until: until), at: now(), into: &ignored)
    }

    /// What contacts are shown of every user, read once the thread has ended (after
    /// `stop()`), so every connection loss the drain caused has been applied.
    /// - Returns: `nil` if the thread did not stop in time; the core is not safe to read.
    func shownAfterStop() -> [ShownPresence]? {
        guard finished.wait(timeout: .now()) == .success else { return nil }
        return core.shownToContacts()
    }
}
