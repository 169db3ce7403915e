import Foundation

/// A mail ready to hand to a transport.
public struct OutgoingMail: Sendable, Equatable {
    /// Stable across retries of the same outbox row, so a re-send after a crash
    /// overwrites instead of duplicating where the transport allows it.
    public var name: String
    /// The envelope recipient.
    public var recipient: String
    /// The rendered RFC 5322 message.
    public var message: [UInt8]
}

/// Delivers rendered mail. Implementations throw to ask for a retry later.
public protocol MailTransport: Sendable {
    /// Hands the mail over; returning means it was accepted for delivery.
    func deliver(_ mail: OutgoingMail) throws
}

/// Why a transport did not take a mail. The message is for the outbox's `last_error`
/// and logs; it never contains the mail itself (which may hold a reset link).
public struct MailTransportError: Error, Equatable, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

/// The default transport: each mail becomes an `.eml` file (RFC 5322) in a directory,
/// which needs no mail server; a relay or a human picks them up.
///
/// A file appears complete or not at all: it is written to a hidden temporary name,
/// fsynced, renamed into place and the directory fsynced, so the outbox may mark the
/// row sent as soon as `deliver` returns.
public struct SpoolTransport: MailTransport {
    public let directory: String

    /// - Parameter directory: created (with parents) if missing.
    public init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    public func deliver(_ mail: OutgoingMail) throws {
        let safeName = String(mail.name.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" })
        let final = directory + "/" + safeName + ".eml"
        let temporary = directory + "/." + safeName + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw MailTransportError("spool: cannot create \(temporary): errno \(errno)") }
        var written = 0
        let failure: String? = mail.message.withUnsafeBytes { bytes in
            while written < bytes.count {
                let n = write(fd, bytes.baseAddress! + written, bytes.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    return "spool: write failed: errno \(errno)"
                }
                written += n
            }
            return fsync(fd) == 0 ? nil : "spool: fsync failed: errno \(errno)"
        }
        close(fd)
        if let failure {
            unlink(temporary)
            throw MailTransportError(failure)
        }
        guard rename(temporary, final) == 0 else {
            unlink(temporary)
            throw MailTransportError("spool: rename failed: errno \(errno)")
        }
        // The rename is durable only once the directory entry is on disk.
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            fsync(directoryFD)
            close(directoryFD)
        }
    }
}
