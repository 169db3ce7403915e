import WebSocket

/// `GET /v1/client-config`: what a client must know before it draws the sign-in form.
/// Today that is whether Sign in with Google is on, and the OAuth client ID the Google
/// sign-in redirect needs; the ID is public (it appears in every Google sign-in URL).
enum ClientConfigWire {
    /// `{"google":{"clientId":"…"}}`, or `{"google":null}` when Google is off.
    static func response(googleClientID: String?) -> HTTPResponse {
        var json = JSONWriter()
        json.beginObject()
        json.key("google")
        if let googleClientID {
            json.beginObject()
            json.key("clientId"); json.string(googleClientID)
            json.endObject()
        } else {
            json.null()
        }
        json.endObject()
        return HTTPWire.jsonResponse(200, json.bytes)
    }
}
