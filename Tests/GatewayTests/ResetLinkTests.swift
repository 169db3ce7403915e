import Foundation
import PresenceClient
import Testing

/// The link in the password-reset mail of a real `presenced` started with `--port 0`:
/// it must name the port the kernel picked, and lead to the reset form.
@Suite struct ResetLinkTests {
    @Test func resetLinkOfADaemonOnPortZeroNamesTheBoundPortAndServesTheForm() throws {
        let presenced = try BuiltProduct("presenced")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("reset-link-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let daemon = try BuiltProduct.Running(presenced, ["--port", "0", "--admin-listen", "off", "--data-dir", directory.path],
                                              environment: BuiltProduct.cleanEnvironment())
        let portText = try #require(daemon.awaitError(matching: #"ports=(\d+)"#, seconds: 20), "no listening line: \(daemon.errorOutput)")
        let port = try #require(Int(portText))
        #expect(port != 0)

        try DaemonTests.signUp("rita", port: port)
        let c = try WebSocketClient(port: port, timeoutSeconds: 15)
        let body = Array(#"{"email":"rita@example.com"}"#.utf8)
        try c.write("POST /v1/password-reset HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n")
        try c.write(body)
        #expect(try c.readHTTPResponse().status == 202)

        // The mail is spooled as an .eml file under DATA-DIR/mail.
        let spool = directory.appendingPathComponent("mail")
        var mail: String?
        #expect(DaemonTests.eventually(15) {
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: spool.path)) ?? []).filter { $0.hasSuffix(".eml") }
            mail = names.first.flatMap { try? String(contentsOf: spool.appendingPathComponent($0), encoding: .utf8) }
            return mail != nil
        }, "no mail spooled: \(daemon.errorOutput)")
        let text = try #require(mail)
        let regex = try NSRegularExpression(pattern: #"http://127\.0\.0\.1:(\d+)(/reset\?token=[A-Za-z0-9_-]+)"#)
        let match = try #require(regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)), "no link in: \(text)")
        let linkPort = Int(text[Range(match.range(at: 1), in: text)!])
        let target = String(text[Range(match.range(at: 2), in: text)!])
        #expect(linkPort == port, "the link names port \(String(describing: linkPort)), the daemon listens on \(port)")

        let browser = try WebSocketClient(port: try #require(linkPort), timeoutSeconds: 15)
        try browser.write("GET \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        let page = try browser.readHTTPResponse()
        #expect(page.status == 200)
        #expect(page.headers["content-type"]?.hasPrefix("text/html") == true)
        #expect(page.body.contains("newPassword"))
    }
}
