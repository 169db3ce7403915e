import WebSocket

/// The minimal HTML pages of the password-reset link (`GET /reset?token=…` and the form's
/// `POST /v1/password-reset/confirm`). No script, no external resource; every text that
/// came from outside is HTML-escaped.
public enum ResetPage {
    /// The form, with an error above it when a previous attempt failed.
    /// - Parameters:
    ///   - token: the reset token from the link; it rides in a hidden field.
    ///   - error: the sentence of the last failure, if any.
    ///   - status: 200 for the link, the error's status when re-shown after a failure.
    public static func form(token: String, error: String? = nil, status: Int = 200) -> HTTPResponse {
        var body = ""
        if let error { body += "<p class=\"error\" role=\"alert\">\(escaped(error))</p>\n" }
        body += """
        <form method="post" action="/v1/password-reset/confirm">
        <input type="hidden" name="token" value="\(escaped(token))">
        <label>New password<br><input type="password" name="newPassword" autocomplete="new-password" required minlength="10" maxlength="128"></label>
        <label>Repeat the new password<br><input type="password" name="confirmPassword" autocomplete="new-password" required minlength="10" maxlength="128"></label>
        <p class="rule">The password needs at least 10 characters, with an uppercase letter (A-Z), a lowercase letter (a-z), a digit (0-9) and a character that is not a letter or digit (e.g. ! @ # $ &amp;).</p>
        <button type="submit">Reset password</button>
        </form>
        """
        return page(status: status, title: "Reset your password", body: body)
    }

    /// The page after a reset that worked.
    public static func done() -> HTTPResponse {
        page(status: 200, title: "Password changed",
             body: "<p>Your password was changed. Sign in with the new password.</p>\n<p><a href=\"/\">Log in</a></p>")
    }

    /// A page for a link that cannot work (no token, unknown, used or expired).
    public static func failed(_ reply: ErrorReply) -> HTTPResponse {
        page(status: reply.httpStatus, title: "Reset your password",
             body: "<p class=\"error\" role=\"alert\">\(escaped(reply.message))</p>")
    }

    /// The page for a form post that failed: the form again if the token may still work
    /// (a rejected password, a mismatch), else the failure alone.
    public static func afterFailure(_ reply: ErrorReply, token: String?) -> HTTPResponse {
        let isTokenDead = reply.code == "invalid_reset_token" || reply.code == "reset_token_expired"
        guard let token, !isTokenDead else { return failed(reply) }
        return form(token: token, error: reply.message, status: reply.httpStatus)
    }

    static func page(status: Int, title: String, body: String) -> HTTPResponse {
        let html = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="robots" content="noindex">
        <title>\(escaped(title))</title>
        <style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}label{display:block;margin:1rem 0}input{width:100%;padding:.4rem}.error{color:#a00}.rule{font-size:.9em;color:#444}</style>
        </head>
        <body>
        <h1>\(escaped(title))</h1>
        \(body)
        </body>
        </html>

        """
        // The token is in the URL: no referrer may carry it off, no cache may keep it, and
        // no frame may host the form (clickjacking).
        return HTTPResponse(status: status, headers: [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Cache-Control", "no-store"),
            ("Referrer-Policy", "no-referrer"),
            ("X-Frame-Options", "DENY"),
            ("X-Content-Type-Options", "nosniff"),
            ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"),
        ], body: Array(html.utf8))
    }

    /// Escapes text for HTML element content and double-quoted attribute values.
    static func escaped(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }
}
