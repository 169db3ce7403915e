import Foundation
import Glibc
@testable import Gateway
import PresenceClient
import Testing

/// Mail leaves through a real sendmail-compatible program (msmtp) to a real SMTP server
/// on loopback (aiosmtpd), as an operator would run it. `scripts/test.sh` installs both
/// and sets PRESENCE_SMTP_PYTHON to the Python that has aiosmtpd.
@Suite struct MailDeliveryTests {
    static let python = ProcessInfo.processInfo.environment["PRESENCE_SMTP_PYTHON"]

    @Test(.enabled(if: python != nil && FileManager.default.isExecutableFile(atPath: "/usr/bin/msmtp"),
                   "needs msmtp and aiosmtpd; scripts/test.sh provides both"))
    func resetMailTravelsThroughMsmtpToAnSMTPServer() throws {
        let maildir = FileManager.default.temporaryDirectory.appendingPathComponent("smtp-\(UUID().uuidString)")
        let port = try freePort()
        let smtpd = Process()
        smtpd.executableURL = URL(fileURLWithPath: Self.python!)
        smtpd.arguments = ["-m", "aiosmtpd", "-n", "-l", "127.0.0.1:\(port)", "-c", "aiosmtpd.handlers.Mailbox", maildir.path]
        smtpd.standardOutput = FileHandle.nullDevice
        smtpd.standardError = FileHandle.nullDevice
        try smtpd.run()
        // aiosmtpd ignores SIGTERM while serving; SIGKILL ends it for sure.
        defer { kill(smtpd.processIdentifier, SIGKILL); smtpd.waitUntilExit() }
        let g = try RunningGateway { config in
            config.sendmailProgram = "/usr/bin/msmtp"
            config.sendmailArguments = ["--host=127.0.0.1", "--port=\(port)", "--from=no-reply@localhost",
                                        "--auth=off", "--tls=off", "-t", "-i"]
        }
        // A fresh virtualenv compiles aiosmtpd on its first start: give it time on a loaded CI machine.
        #expect(g.eventually(20) { (try? WebSocketClient(port: port)) != nil })
        try g.signUp("alice")
        #expect(try g.post("/v1/password-reset", ["email": "alice@example.com"]).status == 202)
        let inbox = maildir.appendingPathComponent("new")
        #expect(g.eventually(20) { ((try? FileManager.default.contentsOfDirectory(atPath: inbox.path)) ?? []).count == 1 })
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: inbox.path).first)
        let mail = try String(contentsOf: inbox.appendingPathComponent(name), encoding: .utf8)
        #expect(mail.contains("X-RcptTo: alice@example.com"))
        #expect(mail.contains("24 hours"))
        #expect(mail.contains("/reset?token="))
    }

    /// A port the kernel just handed out for 127.0.0.1 and took back.
    func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
