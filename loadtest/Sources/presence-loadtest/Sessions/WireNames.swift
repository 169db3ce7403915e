/// Names of the wire protocol the load client speaks (Protocol/README.md §1).
enum WireNames {
    /// Required in the handshake on `/ws`.
    static let subprotocol = "presence.v1"
}
