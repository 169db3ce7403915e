import Logging
import Synchronization

/// The process-wide log level, changed by SIGHUP without restarting.
final class SharedLogLevel: Sendable {
    private let raw: Atomic<Int>
    private static let levels = Logger.Level.allCases

    init(_ level: Logger.Level) { raw = Atomic(Self.levels.firstIndex(of: level)!) }

    var level: Logger.Level {
        get { Self.levels[raw.load(ordering: .relaxed)] }
        set { raw.store(Self.levels.firstIndex(of: newValue)!, ordering: .relaxed) }
    }
}

/// Standard-error lines, one per event, at the shared level. swift-log fixes a handler's
/// level when the logger is made, so the level is read through `SharedLogLevel` instead.
struct ReloadableLogHandler: LogHandler {
    var inner: StreamLogHandler
    let shared: SharedLogLevel

    init(label: String, shared: SharedLogLevel) {
        inner = StreamLogHandler.standardError(label: label)
        self.shared = shared
    }

    var logLevel: Logger.Level {
        get { shared.level }
        set { shared.level = newValue }
    }

    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        inner.log(event: event)
    }
}
