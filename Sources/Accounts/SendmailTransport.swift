import Foundation

/// Pipes each mail to a sendmail-compatible program (msmtp, postfix's sendmail, exim),
/// which reads the message on standard input. Exit status 0 means accepted.
///
/// With the default arguments `-t -i` the program takes the recipients from the To
/// header (`-t`) and does not treat a line holding a single "." as the end (`-i`).
public struct SendmailTransport: MailTransport {
    public let program: String
    public let arguments: [String]
    /// A program that hangs (a dead relay) is killed after this long and the mail retried.
    public let timeoutSeconds: Double

    public init(program: String = "/usr/sbin/sendmail", arguments: [String] = ["-t", "-i"], timeoutSeconds: Double = 60) {
        self.program = program
        self.arguments = arguments
        self.timeoutSeconds = timeoutSeconds
        // A program that exits without reading its input would make our write raise
        // SIGPIPE, whose default action kills the whole gateway. With it ignored the
        // write fails with EPIPE instead, which becomes a retry. Servers ignore SIGPIPE
        // anyway (sockets), so this changes nothing else.
        signal(SIGPIPE, SIG_IGN)
    }

    public func deliver(_ mail: OutgoingMail) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let input = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        do {
            try process.run()
        } catch {
            throw MailTransportError("sendmail: cannot start \(program): \(error)")
        }
        var writeFailure: String?
        do {
            try input.fileHandleForWriting.write(contentsOf: Data(mail.message))
        } catch {
            writeFailure = "sendmail: writing the message failed: \(error)"
        }
        try? input.fileHandleForWriting.close()
        if exited.wait(timeout: .now() + timeoutSeconds) == .timedOut {
            process.terminate()
            exited.wait()
            throw MailTransportError("sendmail: \(program) did not finish within \(Int(timeoutSeconds)) s")
        }
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile().prefix(500), as: UTF8.self)
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            throw MailTransportError("sendmail: \(program) exited with \(process.terminationStatus): \(stderr)")
        }
        if let writeFailure { throw MailTransportError(writeFailure) }
    }
}
