import Testing
@testable import WebSocket

@Suite struct HandshakeTests {
    static let rfcKey = "dGhlIHNhbXBsZSBub25jZQ=="

    func head(_ extra: [(String, String)] = [], removing: Set<String> = [], method: String = "GET", version: Int = 11) -> HTTPRequestHead {
        var headers: [(name: String, value: String)] = [
            ("Host", "example.com"), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", Self.rfcKey), ("Sec-WebSocket-Version", "13"),
        ].filter { !removing.contains($0.0) }
        headers += extra.map { (name: $0.0, value: $0.1) }
        return HTTPRequestHead(method: method, target: "/echo", version: version, headers: headers)
    }

    @Test func acceptValueMatchesTheRFCExample() {
        // RFC 6455 §1.3.
        #expect(Handshake.acceptValue(forKey: Self.rfcKey) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    @Test func validRequestGets101WithTheAcceptHeader() throws {
        let accepted = try Handshake.accept(head(), policy: .init()).get()
        #expect(accepted.response.status == 101)
        #expect(accepted.response.headers.contains { $0.name == "Sec-WebSocket-Accept" && $0.value == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" })
        #expect(accepted.subprotocol == nil)
        #expect(accepted.compression == nil)
    }

    @Test func upgradeAndConnectionAreTokenListsCompiledCaseInsensitively() throws {
        var h = head(removing: ["Upgrade", "Connection"])
        h.headers += [("upgrade", "WebSocket"), ("connection", "keep-alive, UPGRADE")]
        #expect(try Handshake.accept(h, policy: .init()).get().response.status == 101)
    }

    @Test func wrongVersionGets426NamingVersion13() {
        guard case .failure(let r) = Handshake.accept(head([("Sec-WebSocket-Version", "8")], removing: ["Sec-WebSocket-Version"]), policy: .init()) else {
            Issue.record("accepted"); return
        }
        #expect(r == .unsupportedVersion)
        #expect(r.response.status == 426)
        #expect(r.response.headers.contains { $0.name == "Sec-WebSocket-Version" && $0.value == "13" })
    }

    @Test(arguments: ["", "abc", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25jZQ=", "dGhlIHNhbXBsZSBub25j!Q==", "dGhlIHNhbXBsZSBub25jZSE="])
    func malformedKeyGets400(key: String) {
        let result = Handshake.accept(head([("Sec-WebSocket-Key", key)], removing: ["Sec-WebSocket-Key"]), policy: .init())
        guard case .failure(let r) = result else { Issue.record("accepted \(key)"); return }
        #expect(r.response.status == 400)
    }

    @Test(arguments: ["Host", "Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version"])
    func missingRequiredHeaderIsRefused(name: String) {
        guard case .failure(let r) = Handshake.accept(head(removing: [name]), policy: .init()) else {
            Issue.record("accepted without \(name)"); return
        }
        #expect(r.response.status == (name == "Sec-WebSocket-Version" ? 426 : 400))
    }

    @Test func postGets405() {
        guard case .failure(let r) = Handshake.accept(head(method: "POST"), policy: .init()) else { Issue.record("accepted"); return }
        #expect(r.response.status == 405)
    }

    @Test func http10Gets400() {
        guard case .failure(let r) = Handshake.accept(head(version: 10), policy: .init()) else { Issue.record("accepted"); return }
        #expect(r.response.status == 400)
    }

    @Test func originOutsideTheAllowListGets403() {
        let policy = Handshake.Policy(allowedOrigins: ["https://app.example.com"])
        guard case .failure(let r) = Handshake.accept(head([("Origin", "https://evil.example")]), policy: policy) else {
            Issue.record("accepted"); return
        }
        #expect(r.response.status == 403)
        #expect((try? Handshake.accept(head([("Origin", "https://APP.example.com")]), policy: policy).get()) != nil)
        // Non-browser clients send no Origin.
        #expect((try? Handshake.accept(head(), policy: policy).get()) != nil)
    }

    @Test func serverPicksItsPreferredSubprotocolAmongTheOffered() throws {
        let policy = Handshake.Policy(subprotocols: ["presence.v2", "presence.v1"])
        let a = try Handshake.accept(head([("Sec-WebSocket-Protocol", "chat, presence.v1, presence.v2")]), policy: policy).get()
        #expect(a.subprotocol == "presence.v2")
        #expect(a.response.headers.contains { $0.name == "Sec-WebSocket-Protocol" && $0.value == "presence.v2" })
    }

    @Test func requiredSubprotocolMissingGets400() {
        let policy = Handshake.Policy(subprotocols: ["presence.v1"], requiresSubprotocol: true)
        guard case .failure(let r) = Handshake.accept(head([("Sec-WebSocket-Protocol", "chat")]), policy: policy) else {
            Issue.record("accepted"); return
        }
        #expect(r.response.status == 400)
    }

    @Test func deflateOfferIsAnsweredWithoutServerContextTakeover() throws {
        let a = try Handshake.accept(head([("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits")]), policy: .init()).get()
        #expect(a.compression == PerMessageDeflate.Parameters(serverNoContextTakeover: true))
        #expect(a.response.headers.contains { $0.name == "Sec-WebSocket-Extensions" && $0.value == "permessage-deflate; server_no_context_takeover" })
    }

    @Test func compressionCanBeDisabledPerRoute() throws {
        let a = try Handshake.accept(head([("Sec-WebSocket-Extensions", "permessage-deflate")]), policy: .init(allowsCompression: false)).get()
        #expect(a.compression == nil)
    }
}

@Suite struct HTTPRequestParserTests {
    func parse(_ text: String, max: Int = 8192) throws -> (HTTPRequestHead, Int)? {
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBytes { try HTTPRequestParser.parse($0, maxSize: max) }
    }

    @Test func parsesRequestLineAndHeaders() throws {
        let text = "GET /echo?x=1 HTTP/1.1\r\nHost: a\r\nX-Two:  spaced value \r\n\r\nBODY"
        let (head, used) = try #require(try parse(text))
        #expect(head.method == "GET")
        #expect(head.path == "/echo")
        #expect(head.query == "x=1")
        #expect(head.version == 11)
        #expect(head.value("x-two") == "spaced value")
        #expect(used == text.utf8.count - 4)
    }

    @Test func incompleteHeadAsksForMore() throws {
        #expect(try parse("GET / HTTP/1.1\r\nHost: a\r\n") == nil)
    }

    @Test func headOverTheLimitIs431() {
        #expect(throws: HTTPParseError.headTooLarge) { try parse("GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 200), max: 100) }
    }

    @Test(arguments: [
        "GET / HTTP/1.1\nHost: a\n\n\r\n\r\n", "GET  / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
        "GET / HTTP/1.1\r\n folded\r\n\r\n", "G@T / HTTP/1.1\r\n\r\n", "GET nopath HTTP/1.1\r\n\r\n",
    ])
    func malformedHeadsAre400(text: String) {
        #expect(throws: HTTPParseError.self) { try parse(text) }
    }

    @Test func unknownVersionIs505() {
        #expect(throws: HTTPParseError.unsupportedVersion) { try parse("GET / HTTP/2.0\r\n\r\n") }
    }

    @Test func garbageIsRejectedBeforeTheHeadEnds() {
        #expect(throws: HTTPParseError.self) { try parse("\u{16}\u{03}\u{01}") }
    }
}

/// The incremental head scan: the state kept between reads, so a head that arrives a byte at
/// a time is looked at once and not from its start on every read.
@Suite struct HTTPHeadScannerTests {
    /// An 8 KiB head, the default limit.
    static let head: [UInt8] = {
        var text = "GET /healthz HTTP/1.1\r\nHost: x\r\n"
        while text.utf8.count < 8192 - 40 { text += "X-Pad: \(String(repeating: "p", count: 60))\r\n" }
        return Array((text + "\r\n").utf8)
    }()

    @Test func aHeadFedAByteAtATimeIsExaminedOnce() throws {
        var scanner = HTTPHeadScanner()
        var found: (HTTPRequestHead, Int)?
        for n in 1...Self.head.count {
            found = try Self.head.withUnsafeBytes {
                try HTTPRequestParser.parse(UnsafeRawBufferPointer(rebasing: $0[0..<n]), maxSize: 8192, scanner: &scanner)
            }
            if n < Self.head.count { #expect(found == nil) }
        }
        let (head, length) = try #require(found)
        #expect(length == Self.head.count)
        #expect(head.path == "/healthz")
        // Each byte looked at exactly once (rescanning from the start would be n²/2).
        #expect(scanner.bytesExamined == Self.head.count)
        #expect(scanner.scanned == Self.head.count)
    }

    @Test func theStateSurvivesATerminatorSplitAcrossReads() throws {
        let text = Array("GET / HTTP/1.1\r\nHost: a\r\n\r\nrest".utf8)
        let end = text.count - 4
        for split in (end - 4)...end {
            var scanner = HTTPHeadScanner()
            let first = text.withUnsafeBytes { scanner.headLength(in: UnsafeRawBufferPointer(rebasing: $0[0..<split])) }
            #expect(first == (split == end ? end : nil))
            if split < end { #expect(scanner.matched == split - (end - 4)) }
            let second = text.withUnsafeBytes { scanner.headLength(in: $0) }
            #expect(second == end)
        }
    }

    @Test func aFalseStartDoesNotEndTheHead() {
        var scanner = HTTPHeadScanner()
        let bytes = Array("GET / HTTP/1.1\r\nA: b\r\n\r\r\n\r\n".utf8)
        // "\r\n\r" then "\r": the match restarts at the second CR, and the head ends after it.
        let length = bytes.withUnsafeBytes { scanner.headLength(in: $0) }
        #expect(length == bytes.count)
        var other = HTTPHeadScanner()
        let none = Array("GET / HTTP/1.1\r\nA: b\r\n\rX\r\n".utf8).withUnsafeBytes { other.headLength(in: $0) }
        #expect(none == nil)
    }

    @Test func resetStartsTheNextHead() {
        var scanner = HTTPHeadScanner()
        let bytes = Array("GET / HTTP/1.1\r\n\r\n".utf8)
        #expect(bytes.withUnsafeBytes { scanner.headLength(in: $0) } == bytes.count)
        scanner.reset()
        #expect(scanner == HTTPHeadScanner())
        #expect(Array("GET".utf8).withUnsafeBytes { scanner.headLength(in: $0) } == nil)
        #expect(scanner.scanned == 3)
    }

    @Test func theWholeHeadScanAgreesWithTheIncrementalOne() throws {
        let text = "GET /a HTTP/1.1\r\nHost: a\r\n\r\n"
        let whole = try Array(text.utf8).withUnsafeBytes { try HTTPRequestParser.parse($0, maxSize: 8192) }
        #expect(whole?.1 == text.utf8.count)
    }
}

@Suite struct HTTPChunkedBodyTests {
    func decode(_ text: String, max: Int = 1024) throws -> (body: String, used: Int)? {
        let bytes = Array(text.utf8)
        let r = try bytes.withUnsafeBytes { try HTTPChunkedBody.decode($0, maxSize: max) }
        return r.map { (String(decoding: $0.body, as: UTF8.self), $0.used) }
    }

    @Test func decodesChunksExtensionsAndTrailers() throws {
        let text = "4\r\nWiki\r\n5;name=v\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nExpires: never\r\n\r\nNEXT"
        let r = try #require(try decode(text))
        #expect(r.body == "Wikipedia in\r\n\r\nchunks.")
        #expect(r.used == text.utf8.count - 4)
    }

    @Test func everyPrefixAsksForMore() throws {
        let text = "3\r\nabc\r\n0\r\n\r\n"
        let bytes = Array(text.utf8)  // byte prefixes: "\r\n" is one Character
        for n in 0..<bytes.count { #expect(try decode(String(decoding: bytes.prefix(n), as: UTF8.self)) == nil) }
        #expect(try decode(text)?.body == "abc")
    }

    @Test func refusesBadFramingAndOversizeBodies() {
        #expect(throws: HTTPChunkedBody.Failure.malformed("bad chunk size")) { try decode("x\r\n") }
        #expect(throws: HTTPChunkedBody.Failure.malformed("chunk data not followed by CRLF")) { try decode("3\r\nabcX\r\n") }
        #expect(throws: HTTPChunkedBody.Failure.tooLarge) { try decode("400\r\n", max: 100) }
        #expect(throws: HTTPChunkedBody.Failure.tooLarge) { try decode("fffffffff\r\n") }
    }
}
