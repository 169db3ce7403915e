// libFuzzer entry point for the frame decoder and message reader (scripts/fuzz.sh).
// Built normally this file defines the function and does nothing.
import WebSocket

/// The first input byte picks the configuration and where the input is split, so the
/// fuzzer explores header and payload splits, both roles and deflate on or off.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrameDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    let control = data[0]
    var bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let role: FrameDecoder.Role = control & 1 == 0 ? .server : .client
    let inflation: MessageReader.Inflation = control & 2 == 0 ? .none : .own(nil)
    var reader = MessageReader(role: role, maxFrameSize: 1 << 16, maxMessageSize: 1 << 16, inflation: inflation)
    let split = bytes.isEmpty ? 0 : Int(control >> 2) % (bytes.count + 1)
    var total = 0
    bytes.withUnsafeMutableBytes { raw in
        for part in [UnsafeMutableRawBufferPointer(rebasing: raw[0..<split]), UnsafeMutableRawBufferPointer(rebasing: raw[split...])] {
            do throws(ProtocolError) {
                try reader.read(part) { event in
                    switch event {
                    case .text(let p), .binary(let p), .ping(let p), .pong(let p):
                        total &+= p.count
                    case .close(let code, let reason):
                        // A reported close always carries a code valid on the wire and UTF-8.
                        precondition(code == nil || code!.isValidOnWire)
                        precondition(UTF8Validator.isValid(reason))
                    }
                    return true
                }
            } catch {
                // Every violation must map to a close code a server may send.
                precondition(error.closeCode.isValidOnWire)
                return
            }
        }
    }
    return total >= 0 ? 0 : 1
}
