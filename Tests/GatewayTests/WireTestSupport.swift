import Foundation
import Presence
@testable import Gateway

// Helpers shared by the Wire tests: Foundation parses what the hand-written encoder wrote,
// so every encoding test also proves the output is JSON a stock parser accepts.

func foundationObject(_ bytes: [UInt8]) throws -> [String: Any] {
    let value = try JSONSerialization.jsonObject(with: Data(bytes), options: [])
    guard let object = value as? [String: Any] else { throw WireTestFailure.notAnObject }
    return object
}

enum WireTestFailure: Error {
    case notAnObject
    case rejected(RejectedRequest)
}

/// The session the Wire tests decode ops from: the commands they decode into name it.
let decodingSession = SessionID(5)

func decode(_ text: String, from session: SessionID = decodingSession) -> Result<ClientRequest, RejectedRequest> {
    Result { () throws(RejectedRequest) in try ClientOpDecoder().decode(Array(text.utf8), from: session) }
}

/// The error code a message is refused with, or nil when it decodes.
func refusalCode(_ text: String) -> String? {
    if case .failure(let rejected) = decode(text) { return rejected.reply.code }
    return nil
}

func op(_ text: String, from session: SessionID = decodingSession) throws -> ClientOp {
    switch decode(text, from: session) {
    case .success(let request): return request.op
    case .failure(let rejected): throw WireTestFailure.rejected(rejected)
    }
}

func user(_ email: String) -> UserID { UserID(email: email)! }

/// `/work/main/Protocol`, found from this file's path.
let protocolDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Protocol")
