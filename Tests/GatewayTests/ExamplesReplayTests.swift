import Foundation
import Testing

/// Every transcript in `Protocol/examples/` replayed against a real gateway: real sockets, a
/// fresh SQLite file, the configuration the transcript's `gateway` step asks for. Each
/// `expect` must be the next message the server sends that client (format and matching
/// rules in `Protocol/examples/README.md`).
///
/// Serialized: the transcripts wait for debounce windows and grace periods in wall-clock
/// time, and on a small shared machine several replays at once would blur those windows.
@Suite(.serialized) struct ExamplesReplayTests {
    static let examples = protocolDirectory.appendingPathComponent("examples")

    static let files: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: examples.path)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted()
    }()

    @Test func everyTranscriptIsReplayed() {
        #expect(Self.files.count >= 7)
    }

    @Test(arguments: files)
    func transcriptReplaysAgainstARunningGateway(_ file: String) throws {
        let transcript = try Transcript(contentsOf: Self.examples.appendingPathComponent(file))
        let gateway = try RunningGateway { transcript.settings.apply(to: &$0) }
        try TranscriptPlayer(transcript, port: gateway.port).play()
    }
}
