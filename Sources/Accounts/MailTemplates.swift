/// The texts of the e-mails the gateway sends.
public struct MailTemplates: Sendable {
    /// The product name in subjects and signatures.
    public var productName: String
    /// The From header.
    public var from: String
    /// The reset link is this followed by the token, e.g.
    /// `https://chat.example.com/password-reset/`.
    public var resetLinkBase: String

    public init(productName: String, from: String, resetLinkBase: String) {
        self.productName = productName
        self.from = from
        self.resetLinkBase = resetLinkBase
    }

    /// The subject of the reset mail.
    public var passwordResetSubject: String { "\(productName) password reset" }
    /// The subject of the offline-message notice (also used to send at most one per interval).
    public var offlineMessageSubject: String { "You have a new message on \(productName)" }

    /// The password-reset mail of the help article: the ID, the link, how long it is
    /// active, and that it can be ignored.
    public func passwordReset(accountID: String, token: String, lifetimeHours: Int, now: Int64) -> MailMessage {
        let body = """
            Your \(productName) ID is: \(accountID)

            If you would like to change your password, you may do so at the following page:

            \(resetLinkBase)\(token)

            The link is active for \(lifetimeHours) hours.

            If you did not request this information, you may safely ignore it; no changes have been made to your account.

            \(productName)
            """
        return MailMessage(from: from, to: accountID, subject: passwordResetSubject, body: body, date: now,
                           messageID: MailMessage.newMessageID(from: from))
    }

    /// The notice sent when a message arrives while the recipient is signed out and has
    /// the offline e-mail notification on. It names the sender but never quotes the
    /// message: mail is not end-to-end private.
    public func offlineMessage(recipientID: String, senderName: String, senderID: String, now: Int64) -> MailMessage {
        let body = """
            \(senderName) (\(senderID)) sent you a message on \(productName) while you were signed out.

            Sign in to read it.

            You receive this e-mail because offline e-mail notification is on in your profile. \
            You can turn it off there at any time.

            \(productName)
            """
        return MailMessage(from: from, to: recipientID, subject: offlineMessageSubject, body: body, date: now,
                           messageID: MailMessage.newMessageID(from: from))
    }
}
