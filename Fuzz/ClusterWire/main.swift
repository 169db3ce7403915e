// libFuzzer entry point for the shard-message codec (scripts/fuzz.sh).
// Built normally this file defines the function and does nothing.
import ClusterWire

/// Any input either throws or decodes, and what decodes is canonical: it encodes back to
/// exactly the input (Protocol/cluster.md, "One encoding per value").
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzClusterWire(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    // The first byte picks the entry: a whole batch, or one message (the fuzzer reaches
    // message fields faster without first growing a valid header).
    if size > 0, data[0] & 1 == 1 {
        let rest = UnsafeRawBufferPointer(rebasing: input[1...])
        if let message = try? ClusterWire.decodeMessage(rest) {
            var bytes: [UInt8] = []
            ClusterWire.encode(message, into: &bytes)
            precondition(bytes.elementsEqual(rest), "a decoded message re-encodes differently")
        }
        return 0
    }
    if let batch = try? ClusterWire.decodeBatch(input) {
        var bytes: [UInt8] = []
        ClusterWire.encodeBatch(batch, into: &bytes)
        precondition(bytes.elementsEqual(input), "a decoded batch re-encodes differently")
    }
    return 0
}
