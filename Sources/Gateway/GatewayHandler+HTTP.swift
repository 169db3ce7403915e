import Accounts
import Foundation
import Presence
import Storage
import Transport
import WebSocket

extension GatewayHandler {
    /// Plain HTTP. Anything that hashes a password or touches the database runs on an
    /// account worker and answers later (`nil` here), so the loop never blocks.
    public func handle(_ request: HTTPRequest, id: ConnectionID, on loop: EventLoop) -> HTTPResponse? {
        if request.endpoint == runtime.configuration.operatorEndpointIndex { return handleOperator(request, id: id) }
        let head = request.head
        let runtime = self.runtime
        let contentType = head.value("Content-Type")
        switch (head.method, String(head.path)) {
        case ("GET", "/healthz"), ("HEAD", "/healthz"):
            return HTTPWire.healthy
        case ("GET", "/v1/client-config"):
            return ClientConfigWire.response(googleClientID: runtime.configuration.google?.clientID)
        case ("GET", "/readyz"):
            return HTTPWire.readiness([("storage", true), ("accepting", !runtime.isDraining)])
        case ("POST", "/v1/accounts"):
            let signUp: HTTPWire.SignUpRequest
            do { signUp = try HTTPWire.decodeSignUp(request.body, contentType: contentType) } catch {
                return HTTPWire.errorResponse(ErrorReply(any: error))
            }
            let address = request.remoteAddress
            let isQueued = runtime.accounts.offer { worker in
                runtime.respond(id) {
                    let profile = try worker.service.signUp(email: signUp.email, firstName: signUp.firstName, lastName: signUp.lastName,
                                                            password: signUp.password, wantsOfflineEmail: signUp.offlineEmail,
                                                            sourceAddress: address)
                    return HTTPWire.signUpCreated(WireProfile(profile))
                }
            }
            return isQueued ? nil : runtime.overloadedResponse()
        case ("POST", "/v1/password-reset"):
            let email: String
            do { email = try HTTPWire.decodePasswordResetRequest(request.body, contentType: contentType) } catch {
                return HTTPWire.errorResponse(ErrorReply(any: error))
            }
            let address = request.remoteAddress
            let isQueued = runtime.accounts.offer { worker in
                runtime.respond(id) {
                    // The same answer whether or not the account exists, and whether or
                    // not the per-target limit dropped it; only the per-source limit answers 429.
                    try worker.service.requestPasswordReset(email: email, sourceAddress: address)
                    return HTTPWire.passwordResetAccepted
                }
            }
            return isQueued ? nil : runtime.overloadedResponse()
        case ("GET", "/reset"):
            guard let token = HTTPWire.resetToken(fromQuery: head.query) else {
                return ResetPage.failed(ErrorReply(code: "invalid_reset_token", message: "This link is not valid.", httpStatus: 400))
            }
            return ResetPage.form(token: token)
        case ("POST", "/v1/password-reset/confirm"):
            let confirmation: HTTPWire.ResetConfirmation
            do { confirmation = try HTTPWire.decodePasswordResetConfirm(request.body, contentType: contentType) } catch {
                return HTTPWire.errorResponse(ErrorReply(any: error))
            }
            let isQueued = runtime.accounts.offer { worker in
                let response: HTTPResponse
                do {
                    let change = try worker.service.resetPassword(token: confirmation.token, newPassword: confirmation.newPassword)
                    let profile = try worker.service.profile(accountID: change.accountID)
                    runtime.closeSessions(ofAccount: change.accountID, offlineMail: profile.wantsOfflineEmail)
                    response = confirmation.isFromForm ? ResetPage.done() : HTTPWire.passwordChanged
                } catch {
                    let reply = ErrorReply(any: error)
                    response = confirmation.isFromForm ? ResetPage.afterFailure(reply, token: confirmation.token) : HTTPWire.errorResponse(reply)
                }
                runtime.server.execute(on: id) { loop in loop.respond(id, with: response) }
            }
            guard !isQueued else { return nil }
            let refusal = runtime.overloadedResponse()
            return confirmation.isFromForm ? ResetPage.afterFailure(ErrorReply(WireError.overloaded), token: confirmation.token) : refusal
        case (_, "/echo") where runtime.configuration.isEchoEnabled:
            return .error(426, code: "upgrade_required", message: "this is a WebSocket endpoint",
                          headers: [("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13")])
        case (_, WireProtocol.route):
            return .error(426, code: "upgrade_required", message: "this is a WebSocket endpoint; use subprotocol \(WireProtocol.subprotocol)",
                          headers: [("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13")])
        case (_, let path):
            // The web client's files (`/`, `/app.js`, …); see WebAssets.
            if let file = runtime.webAssets.response(path: path, ifNoneMatch: head.value("If-None-Match")) {
                return head.method == "GET" ? file : HTTPWire.methodNotAllowed(["GET"])
            }
            if let allowed = HTTPWire.allowedMethods(forPath: path) { return HTTPWire.methodNotAllowed(allowed) }
            return HTTPWire.errorResponse(ErrorReply(WireError.notFound))
        }
    }
}

extension GatewayRuntime {
    /// Answers a deferred HTTP request with what `work` builds, or its error.
    func respond(_ id: ConnectionID, _ work: () throws -> HTTPResponse) {
        let response: HTTPResponse
        do { response = try work() } catch { response = HTTPWire.errorResponse(reply(to: error)) }
        server.execute(on: id) { loop in loop.respond(id, with: response) }
    }

    /// The answer to a request the account workers' full queue refused (503, `overloaded`).
    func overloadedResponse() -> HTTPResponse {
        HTTPWire.errorResponse(overloadedReply())
    }

    /// The reply for an error of blocking work; one the client cannot act on (a storage
    /// failure) is logged, since its reply says only "internal error". A job the storage
    /// writer's full mailbox refused is `overloaded`: nothing of it was done.
    func reply(to error: any Error) -> ErrorReply {
        if case StorageError.writerFull = error { return overloadedReply() }
        let reply = ErrorReply(any: error)
        if reply.httpStatus >= 500 { log.error("request failed", metadata: ["error": "\(error)"]) }
        return reply
    }

    /// A password reset: every live session of the account must sign in again.
    func closeSessions(ofAccount accountID: String, offlineMail: Bool) {
        guard let user = UserID(email: accountID) else { return }
        presence.post(.command(.changeProfile(user, isOfflineMailEnabled: offlineMail), target: nil))
    }
}
