import Accounts
import Foundation
import Logging
import Storage

/// Drains the mail outbox on its own thread: every second, or sooner when woken. Rows are
/// written in the same transaction as the change that caused them, so a crash loses none;
/// the worker retries with backoff.
///
/// `@unchecked Sendable`: `worker` is used only by the thread (`thread` is made by `start()`,
/// before it runs).
final class OutboxThread: @unchecked Sendable {
    private let worker: OutboxWorker
    private let log = Logger(label: "outbox")
    private let metrics: GatewayMetrics

    init(configuration: GatewayConfiguration, metrics: GatewayMetrics) throws {
        self.metrics = metrics
        let transport: any MailTransport
        if let program = configuration.sendmailProgram {
            transport = SendmailTransport(program: program, arguments: configuration.sendmailArguments)
        } else {
            try FileManager.default.createDirectory(atPath: configuration.spoolPath, withIntermediateDirectories: true)
            transport = try SpoolTransport(directory: configuration.spoolPath)
        }
        worker = OutboxWorker(database: try Database(location: configuration.storageLocation), transport: transport)
    }

    private lazy var thread = PeriodicThread(
        name: "outbox", interval: 1, runsAtStart: true,
        work: { [self] in
            do {
                let report = try worker.drain()
                if report.abandoned > 0 { log.warning("mail abandoned", metadata: ["count": "\(report.abandoned)"]) }
                metrics.outboxDepth.record(try worker.unsentCount())
            } catch {
                log.error("outbox drain failed", metadata: ["error": "\(error)"])
            }
        },
        last: { [self] in _ = try? worker.drain() })  // a last flush on the way out

    func start() { thread.start() }

    func stop() { thread.stop() }
}
