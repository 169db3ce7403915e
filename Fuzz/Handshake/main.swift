// libFuzzer entry point for the HTTP request parser, the upgrade validation and the
// permessage-deflate negotiation (scripts/fuzz.sh). Built normally it does nothing.
import WebSocket

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHandshake(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    guard let (head, used) = try? HTTPRequestParser.parse(bytes, maxSize: 8192) else { return 0 }
    precondition(used <= size)
    let policy = Handshake.Policy(subprotocols: ["presence.v1"], allowedOrigins: ["https://app.example.com"])
    switch Handshake.accept(head, policy: policy) {
    case .success(let accepted):
        precondition(accepted.response.status == 101)
        // Whatever was negotiated must be something we can honour.
        if let p = accepted.compression { precondition((8...15).contains(p.serverMaxWindowBits)) }
    case .failure(let rejection):
        precondition([400, 403, 405, 426].contains(rejection.response.status))
    }
    for value in head.values("Sec-WebSocket-Extensions") { _ = PerMessageDeflate.negotiate(offers: value) }
    return 0
}
