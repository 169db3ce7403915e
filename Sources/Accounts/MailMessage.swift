import Foundation

/// A plain-text e-mail, rendered as an RFC 5322 message with MIME (RFC 2045) headers.
public struct MailMessage: Sendable, Equatable {
    /// The From header, e.g. `Presence <no-reply@example.com>`.
    public var from: String
    /// The recipient address (an account ID).
    public var to: String
    public var subject: String
    /// The text, with `\n` line breaks.
    public var body: String
    /// Milliseconds since the Unix epoch, for the Date header.
    public var date: Int64
    /// The Message-ID header value, including its angle brackets.
    public var messageID: String

    public init(from: String, to: String, subject: String, body: String, date: Int64, messageID: String) {
        self.from = from
        self.to = to
        self.subject = subject
        self.body = body
        self.date = date
        self.messageID = messageID
    }

    /// A fresh globally unique Message-ID (RFC 5322 §3.6.4) under the sender's domain.
    public static func newMessageID(from sender: String) -> String {
        let domain = sender.split(separator: "@").last.map { $0.filter { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" } }
        return "<\(Base64URL.encode(SecretToken.randomBytes(16)))@\(domain.flatMap { $0.isEmpty ? nil : $0 } ?? "localhost")>"
    }

    /// The message as bytes: CRLF line endings, headers, blank line, body. ASCII bodies
    /// go as 7bit; anything else as base64, so no relay needs 8BITMIME.
    public func rendered() -> [UInt8] {
        let text = body.replacingOccurrences(of: "\r\n", with: "\n")
        let isASCII = text.unicodeScalars.allSatisfy { $0.isASCII }
        var lines = [
            "From: \(Self.headerValue(from))",
            "To: \(Self.headerValue(to))",
            "Subject: \(Self.encodedWord(Self.headerValue(subject)))",
            "Date: \(Self.rfc5322Date(date))",
            "Message-ID: \(Self.headerValue(messageID))",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: \(isASCII ? "7bit" : "base64")",
            "",
        ]
        if isASCII {
            lines += text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        } else {
            let encoded = Data(text.utf8).base64EncodedString()
            // RFC 2045 §6.8: encoded lines of at most 76 characters.
            var index = encoded.startIndex
            while index < encoded.endIndex {
                let end = encoded.index(index, offsetBy: 76, limitedBy: encoded.endIndex) ?? encoded.endIndex
                lines.append(String(encoded[index..<end]))
                index = end
            }
        }
        return Array(lines.joined(separator: "\r\n").utf8) + [13, 10]
    }

    /// Header values never carry CR or LF: that would let a name or subject inject headers.
    static func headerValue(_ value: String) -> String {
        String(value.unicodeScalars.map { $0 == "\r" || $0 == "\n" ? " " : Character($0) })
    }

    /// RFC 2047 encoded-word for non-ASCII header text.
    static func encodedWord(_ value: String) -> String {
        guard !value.unicodeScalars.allSatisfy({ $0.isASCII }) else { return value }
        return "=?UTF-8?B?\(Data(value.utf8).base64EncodedString())?="
    }

    /// RFC 5322 §3.3, in UTC: `Tue, 01 Jul 2025 10:00:00 +0000`.
    static func rfc5322Date(_ milliseconds: Int64) -> String {
        var seconds = time_t(milliseconds / 1_000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) +0000"
    }
}
