import Foundation
import Synchronization
import XCTest
@testable import Accounts
import Storage
import StorageTestSupport

/// The outbox worker and its transports: spool files and a sendmail program.
final class OutboxTests: XCTestCase {
    let directory = TemporaryDirectory()
    let clock = TestClock()
    var database: Database!
    let templates = MailTemplates(productName: "Presence", from: "Presence <no-reply@chat.example.com>",
                                  resetLinkBase: "https://chat.example.com/password-reset/")

    override func setUpWithError() throws { database = try Database(location: TestStorage.location(directory.path("db.sqlite"))) }

    func enqueue(_ mail: MailMessage) throws -> Int64 {
        try OutboxStore(database).enqueue(recipient: mail.to, subject: mail.subject, message: mail.rendered(), at: clock.now())
    }

    /// A transport that fails a set number of times, then accepts.
    final class FlakyTransport: MailTransport {
        let failuresLeft: Mutex<Int>
        let delivered = Mutex<[OutgoingMail]>([])
        init(failures: Int) { failuresLeft = Mutex(failures) }
        func deliver(_ mail: OutgoingMail) throws {
            let fail = failuresLeft.withLock { left -> Bool in
                defer { left -= 1 }
                return left > 0
            }
            if fail { throw MailTransportError("relay refused") }
            delivered.withLock { $0.append(mail) }
        }
    }

    func testSpoolTransportWritesCompleteEmlFilesNamedPerRow() throws {
        let spool = directory.path("spool")
        let id = try enqueue(templates.passwordReset(accountID: "ann@example.com", token: "TOKEN123", lifetimeHours: 24, now: clock.now()))
        let worker = OutboxWorker(database: database, transport: try SpoolTransport(directory: spool), now: clock.now)
        XCTAssertEqual(try worker.drain(), OutboxDrainReport(sent: 1, retried: 0, abandoned: 0))

        let files = try FileManager.default.contentsOfDirectory(atPath: spool)
        XCTAssertEqual(files, ["\(clock.now())-\(id).eml"], "no temporary files left behind")
        let eml = try String(contentsOfFile: spool + "/" + files[0], encoding: .utf8)
        let (headers, body) = try XCTUnwrap(splitMessage(eml))
        XCTAssertEqual(headers["From"], "Presence <no-reply@chat.example.com>")
        XCTAssertEqual(headers["To"], "ann@example.com")
        XCTAssertEqual(headers["Subject"], "Presence password reset")
        XCTAssertEqual(headers["MIME-Version"], "1.0")
        XCTAssertEqual(headers["Content-Type"], "text/plain; charset=utf-8")
        XCTAssertTrue(headers["Message-ID"]?.hasSuffix("@chat.example.com>") == true)
        XCTAssertNotNil(headers["Date"]?.range(of: #"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$"#,
                                               options: .regularExpression))
        XCTAssertTrue(body.contains("https://chat.example.com/password-reset/TOKEN123\r\n"))
        XCTAssertFalse(eml.replacingOccurrences(of: "\r\n", with: "").contains("\n"), "every line ends in CRLF")

        let row = try XCTUnwrap(OutboxStore(database).find(id: id))
        XCTAssertNotNil(row.sentAt)
        XCTAssertEqual(row.message, [], "the link is scrubbed from the database once sent")
        XCTAssertEqual(try worker.drain(), OutboxDrainReport(), "sent rows are not sent again")
    }

    func testNonASCIIMailIsEncodedForSevenBitRelays() throws {
        let mail = templates.offlineMessage(recipientID: "bo@example.com", senderName: "Zoë Ångström", senderID: "zoe@example.com",
                                            now: clock.now())
        var withSubject = mail
        withSubject.subject = "Grüße"
        let text = String(decoding: withSubject.rendered(), as: UTF8.self)
        XCTAssertTrue(text.unicodeScalars.allSatisfy(\.isASCII))
        XCTAssertTrue(text.contains("Subject: =?UTF-8?B?R3LDvMOfZQ==?="))
        XCTAssertTrue(text.contains("Content-Transfer-Encoding: base64"))
        let body = try XCTUnwrap(splitMessage(text)).body.replacingOccurrences(of: "\r\n", with: "")
        let decoded = String(decoding: try XCTUnwrap(Data(base64Encoded: body)), as: UTF8.self)
        XCTAssertTrue(decoded.contains("Zoë Ångström (zoe@example.com) sent you a message on Presence"))
    }

    func testHeaderValuesCannotInjectHeaders() {
        let mail = MailMessage(from: "a@x.org", to: "b@x.org", subject: "Hi\r\nBcc: victim@x.org", body: "x", date: 0, messageID: "<1@x>")
        let text = String(decoding: mail.rendered(), as: UTF8.self)
        XCTAssertFalse(text.contains("\r\nBcc:"))
        XCTAssertTrue(text.contains("Subject: Hi  Bcc: victim@x.org\r\n"))
    }

    func testFailedDeliveriesRetryWithExponentialBackoffAndNeverVanish() throws {
        let id = try enqueue(templates.offlineMessage(recipientID: "bo@example.com", senderName: "Ann", senderID: "ann@example.com", now: 0))
        let transport = FlakyTransport(failures: 3)
        let policy = RetryPolicy(baseDelayMilliseconds: 1_000, maximumDelayMilliseconds: 3_000, maximumAttempts: 10)
        let worker = OutboxWorker(database: database, transport: transport, retryPolicy: policy, now: clock.now)
        let start = clock.now()
        var schedule: [Int64] = []
        for _ in 0..<3 {
            XCTAssertEqual(try worker.drain().retried, 1)
            let due = try XCTUnwrap(worker.nextAttemptAt())
            schedule.append(due - clock.now())
            XCTAssertEqual(try worker.drain(), OutboxDrainReport(), "not due yet")
            clock.advance(milliseconds: due - clock.now())
        }
        XCTAssertEqual(schedule, [1_000, 2_000, 3_000], "doubling, capped")
        XCTAssertEqual(try worker.drain().sent, 1)
        XCTAssertEqual(transport.delivered.withLock { $0.map(\.recipient) }, ["bo@example.com"])
        let row = try XCTUnwrap(OutboxStore(database).find(id: id))
        XCTAssertEqual(row.attempts, 4)
        XCTAssertEqual(row.sentAt, clock.now())
        XCTAssertGreaterThan(clock.now(), start)
        XCTAssertNil(try worker.nextAttemptAt())
    }

    func testDeliveryIsAbandonedAfterTheLastAttemptButTheRowIsKept() throws {
        let id = try enqueue(templates.offlineMessage(recipientID: "bo@example.com", senderName: "Ann", senderID: "ann@example.com", now: 0))
        let worker = OutboxWorker(database: database, transport: FlakyTransport(failures: 99),
                                  retryPolicy: RetryPolicy(baseDelayMilliseconds: 10, maximumDelayMilliseconds: 10, maximumAttempts: 2),
                                  now: clock.now)
        XCTAssertEqual(try worker.drain().retried, 1)
        clock.advance(milliseconds: 10)
        XCTAssertEqual(try worker.drain().abandoned, 1)
        let row = try XCTUnwrap(OutboxStore(database).find(id: id))
        XCTAssertNotNil(row.abandonedAt)
        XCTAssertEqual(row.lastError, "relay refused")
        XCTAssertFalse(row.message.isEmpty, "kept for inspection")
    }

    func testRowSurvivesACrashBeforeItWasMarkedSent() throws {
        // A "crash" after the transport ran but before markSent: a new worker on a new
        // connection finds the row still due and sends it again (at-least-once).
        _ = try enqueue(templates.offlineMessage(recipientID: "bo@example.com", senderName: "Ann", senderID: "ann@example.com", now: 0))
        let spool = directory.path("spool")
        let transport = try SpoolTransport(directory: spool)
        let row = try XCTUnwrap(OutboxStore(database).due(at: clock.now(), limit: 1).first)
        try transport.deliver(OutgoingMail(name: "\(row.createdAt)-\(row.id)", recipient: row.recipient, message: row.message))
        database = nil
        let reopened = try Database(location: TestStorage.location(directory.path("db.sqlite")))
        XCTAssertEqual(try OutboxWorker(database: reopened, transport: transport, now: clock.now).drain().sent, 1)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: spool).count, 1, "same name: overwritten, not doubled")
    }

    func testSendmailTransportPipesTheMessageToTheProgram() throws {
        let captured = directory.path("captured.eml"), argsFile = directory.path("args.txt")
        let script = try writeScript("fake-sendmail", """
            #!/bin/sh
            echo "$@" > '\(argsFile)'
            cat > '\(captured)'
            """)
        let mail = templates.passwordReset(accountID: "ann@example.com", token: "TOKEN123", lifetimeHours: 24, now: clock.now())
        _ = try enqueue(mail)
        let worker = OutboxWorker(database: database, transport: SendmailTransport(program: script), now: clock.now)
        XCTAssertEqual(try worker.drain().sent, 1)
        XCTAssertEqual(try String(contentsOfFile: argsFile, encoding: .utf8), "-t -i\n")
        let received = try Data(contentsOf: URL(fileURLWithPath: captured))
        XCTAssertEqual(Array(received), mail.rendered())
    }

    func testSendmailFailureIsRetriedWithTheProgramsError() throws {
        let script = try writeScript("failing-sendmail", """
            #!/bin/sh
            echo "relay unreachable" >&2
            exit 75
            """)
        let id = try enqueue(templates.offlineMessage(recipientID: "bo@example.com", senderName: "Ann", senderID: "ann@example.com", now: 0))
        let worker = OutboxWorker(database: database, transport: SendmailTransport(program: script), now: clock.now)
        XCTAssertEqual(try worker.drain().retried, 1)
        let error = try XCTUnwrap(OutboxStore(database).find(id: id)?.lastError)
        XCTAssertTrue(error.contains("exited with 75") && error.contains("relay unreachable"), error)
        XCTAssertThrowsError(try SendmailTransport(program: directory.path("missing")).deliver(
            OutgoingMail(name: "x", recipient: "b@x.org", message: [])))
    }

    func testSendmailThatNeverReadsItsInputFailsWithoutKillingUs() throws {
        let script = try writeScript("deaf-sendmail", "#!/bin/sh\nexit 0\n")
        let big = OutgoingMail(name: "big", recipient: "b@x.org", message: [UInt8](repeating: 65, count: 1 << 20))
        XCTAssertThrowsError(try SendmailTransport(program: script).deliver(big))
    }

    func testOfflineNoticeIsQueuedOnlyWhenWantedAndNotWhileOneIsStillUnsent() throws {
        let fixture = try AccountsFixture(signingKey: sharedSigningKey)
        let service = fixture.service
        _ = try service.signUp(email: "ann@example.com", firstName: "Ann", lastName: "Lee", password: goodPassword, wantsOfflineEmail: false)
        _ = try service.signUp(email: "bo@example.com", firstName: "Bo", lastName: "", password: goodPassword, wantsOfflineEmail: true)
        XCTAssertFalse(try service.queueOfflineMessageNotice(recipientID: "ann@example.com", senderID: "bo@example.com"), "flag off")
        XCTAssertTrue(try service.queueOfflineMessageNotice(recipientID: "bo@example.com", senderID: "ann@example.com"))
        XCTAssertFalse(try service.queueOfflineMessageNotice(recipientID: "bo@example.com", senderID: "ann@example.com"),
                       "the first is still unsent and stands for this one")
        let first = try XCTUnwrap(OutboxStore(fixture.database).pending().first)
        let text = String(decoding: first.message, as: UTF8.self)
        XCTAssertTrue(text.contains("Ann Lee (ann@example.com) sent you a message on Presence"), text)
        // Once it went out, the next offline period gets its own, however soon.
        try OutboxStore(fixture.database).markSent(id: first.id, attempts: 1, at: 1)
        fixture.clock.advance(milliseconds: 1)
        XCTAssertTrue(try service.queueOfflineMessageNotice(recipientID: "bo@example.com", senderID: "ann@example.com"))
    }

    // MARK: - Helpers

    func writeScript(_ name: String, _ text: String) throws -> String {
        let path = directory.path(name)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return path
    }

    /// Headers (unfolded, by name) and body of a CRLF message.
    func splitMessage(_ text: String) -> (headers: [String: String], body: String)? {
        guard let split = text.range(of: "\r\n\r\n") else { return nil }
        var headers: [String: String] = [:]
        for line in text[..<split.lowerBound].components(separatedBy: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { return nil }
            headers[String(line[..<colon])] = String(line[line.index(colon, offsetBy: 2)...])
        }
        return (headers, String(text[split.upperBound...]))
    }
}
