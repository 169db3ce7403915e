// libFuzzer entry point for the cluster codec: shard, home and edge batches, and node frames
// (scripts/fuzz.sh).
// Built normally this file defines the function and does nothing.
import ClusterWire

/// Any input either throws or decodes, and what decodes is canonical: it encodes back to
/// exactly the input (Protocol/cluster.md, "One encoding per value").
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzClusterWire(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    let input = UnsafeRawBufferPointer(start: data, count: size)
    let rest = UnsafeRawBufferPointer(rebasing: input[1...])
    // The first byte picks the entry. Odd: one message of a kind (the fuzzer reaches
    // message fields faster without first growing a valid header). Even: a whole batch,
    // of whichever kind its own first byte names. (The batch path once decoded the whole
    // input, selector included, so an even selector was always an unknown version and no
    // batch was ever reached.)
    var bytes: [UInt8] = []
    if data[0] & 1 == 1 {
        switch data[0] >> 1 & 3 {
        case 0:
            guard let message = try? ClusterWire.decodeMessage(rest) else { return 0 }
            ClusterWire.encode(message, into: &bytes)
        case 1:
            guard let command = try? ClusterWire.decodeCommand(rest) else { return 0 }
            try! ClusterWire.encode(command, into: &bytes)
        case 2:
            guard let message = try? ClusterWire.decodeHomeMessage(rest) else { return 0 }
            try! ClusterWire.encode(message, into: &bytes)
        default:
            guard let message = try? ClusterWire.decodeEdgeMessage(rest) else { return 0 }
            ClusterWire.encode(message, into: &bytes)
        }
        precondition(bytes.elementsEqual(rest), "a decoded message re-encodes differently")
        return 0
    }
    // A node frame (what presenced nodes send each other) starts with its own format byte.
    if rest.first == ClusterWire.nodeFrameFormat {
        guard let frame = try? ClusterWire.decodeNodeFrame(rest) else { return 0 }
        try! ClusterWire.encode(frame, into: &bytes)
        precondition(bytes.elementsEqual(rest), "a decoded node frame re-encodes differently")
        return 0
    }
    switch try? ClusterWire.batchKind(rest) {
    case .shard?:
        guard let batch = try? ClusterWire.decodeBatch(rest) else { return 0 }
        ClusterWire.encodeBatch(batch, into: &bytes)
    case .home?:
        guard let batch = try? ClusterWire.decodeHomeBatch(rest) else { return 0 }
        try! ClusterWire.encodeBatch(batch, into: &bytes)
    case .edge?:
        guard let batch = try? ClusterWire.decodeEdgeBatch(rest) else { return 0 }
        ClusterWire.encodeBatch(batch, into: &bytes)
    case nil:
        return 0
    }
    precondition(bytes.elementsEqual(rest), "a decoded batch re-encodes differently")
    return 0
}
