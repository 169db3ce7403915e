import Prometheus
import Transport
import WebSocket

extension GatewayHandler {
    /// The operator listener (`GatewayConfiguration.operatorListener`, presenced's
    /// `admin-listen`): `GET /metrics`, the `/admin/…` endpoints and `GET /healthz`. None of
    /// them exists on the public listener, so a port opened to the internet exposes no
    /// metrics and no admin surface, whatever the token.
    func handleOperator(_ request: HTTPRequest, id: ConnectionID) -> HTTPResponse? {
        let runtime = self.runtime
        let path = String(request.head.path)
        switch (request.head.method, path) {
        case ("GET", "/metrics"):
            guard let registry = runtime.configuration.metricsRegistry else { return HTTPWire.errorResponse(ErrorReply(WireError.notFound)) }
            // Prometheus text exposition format 0.0.4.
            return HTTPResponse(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")],
                                body: registry.emitToBuffer())
        case (_, "/metrics"):
            return HTTPWire.methodNotAllowed(["GET"])
        case ("GET", "/healthz"), ("HEAD", "/healthz"):
            return HTTPWire.healthy
        case (_, _) where path.hasPrefix("/admin/"):
            switch AdminAPI.query(for: request, token: runtime.configuration.adminToken) {
            case .refuse(let refusal):
                return refusal
            case .ask(let query):
                runtime.presence.post(.inspect(query) { [runtime] response in
                    runtime.server.execute(on: id) { loop in loop.respond(id, with: response) }
                })
                return nil
            }
        default:
            return HTTPWire.errorResponse(ErrorReply(WireError.notFound))
        }
    }
}
