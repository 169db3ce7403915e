import Testing
@testable import Gateway

@Suite struct WireJSONParserTests {
    static let refused: [String] = [
        "", "{", "}", "{\"a\":}", "{\"a\" 1}", "{\"a\":1,}", "[1,]", "{'a':1}", "{a:1}", "01", "1.", ".5", "-",
        "1e", "+1", "NaN", "Infinity", "tru", "nul", "\"unterminated", "\"bad \\x escape\"", "\"\\u12\"",
        "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"raw \n newline\"", "{\"a\":1} x", "{\"a\":1}{}",
        "{\"a\":1,\"a\":2}", "/* comment */ {}", String(repeating: "[", count: 40) + String(repeating: "]", count: 40),
    ]

    @Test(arguments: refused)
    func nonStrictJSONIsRefused(_ text: String) {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(Array(text.utf8)) }
    }

    @Test func duplicateMemberNamesAreRefusedAtAnyDepth() {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(Array(#"{"a":{"b":1,"b":1}}"#.utf8)) }
    }

    /// Small objects are checked by a scan, large ones by a set (`membersScannedForDuplicates`):
    /// a duplicate is refused on both sides of the switch, and distinct names pass.
    @Test func duplicatesAreFoundInSmallAndLargeObjectsAlike() throws {
        func object(_ names: [String]) -> [UInt8] { Array(("{" + names.map { "\"\($0)\":1" }.joined(separator: ",") + "}").utf8) }
        let distinct = (0..<40).map { "m\($0)" }
        guard case .object(let members) = try JSONParser.parse(object(distinct)) else { Issue.record("not an object"); return }
        #expect(members.map(\.key) == distinct)
        for (count, repeated) in [(5, 2), (16, 3), (17, 0), (40, 39)] {
            let names = Array(distinct.prefix(count)) + [distinct[repeated]]
            #expect(throws: JSONParser.Failure.self, "\(count) members, then m\(repeated) again") { try JSONParser.parse(object(names)) }
        }
    }

    @Test func stringsWithAndWithoutEscapesReadAlike() throws {
        #expect(try JSONParser.parse(Array(#""plain text, longer than fifteen bytes""#.utf8)) == .string("plain text, longer than fifteen bytes"))
        #expect(try JSONParser.parse(Array(#""caf\u00e9 \"quoted\" é""#.utf8)) == .string("café \"quoted\" é"))
        #expect(try JSONParser.parse(Array("\"é ü\"".utf8)) == .string("é ü"))
    }

    @Test func invalidUTF8InsideAStringIsRefused() {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse([0x22, 0xFF, 0x22]) }
    }

    @Test func surrogatePairEscapesBecomeOneScalar() throws {
        #expect(try JSONParser.parse(Array(#""\ud83c\udf89""#.utf8)) == .string("🎉"))
    }

    @Test func numbersKeepTheirTextAndBooleansStayBooleans() throws {
        let value = try JSONParser.parse(Array(#" {"n": -1.5e3, "i": 18446744073709551615, "t": true} "#.utf8))
        #expect(value == .object([("n", .number("-1.5e3")), ("i", .number("18446744073709551615")), ("t", .bool(true))]))
    }

    @Test func nestingUpToTheLimitIsAccepted() throws {
        let depth = JSONParser.maximumDepth
        let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        _ = try JSONParser.parse(Array(text.utf8))
    }

    /// 30,000 seeded mutations of real messages (bytes flipped, dropped, repeated, or
    /// replaced by the characters the string fast path stops at): every input is either
    /// refused with a `Failure` or parses to a value whose compact text parses back to the
    /// same value. The positive control: some mutants must parse, and some must be refused.
    @Test func mutatedMessagesAreRefusedOrRoundTrip() throws {
        let seeds = [
            #"{"id":"17","op":"setStatus","status":"busy"}"#,
            #"{"id":"19","op":"send","to":"user42@load.test","clientMessageId":"c-1","body":"caf\u00e9 \"x\" é 🎉"}"#,
            #"{"id":"3","op":"invite","to":"b@x.org","payload":{"sdp":"v=0\r\n","list":[1,2.5e3,null,true]}}"#,
        ].map { Array($0.utf8) }
        let specials: [UInt8] = [0x22, 0x5C, 0x00, 0x1F, 0x7B, 0x7D, 0x3A, 0x2C, 0xC3, 0xFF, 0x75]
        var rng = SplitMix(seed: 20261203)
        var parsed = 0, refused = 0
        for _ in 0..<30_000 {
            var bytes = seeds[Int(rng.next() % UInt64(seeds.count))]
            for _ in 0...(rng.next() % 3) {
                let at = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 4 {
                case 0: bytes[at] ^= UInt8(truncatingIfNeeded: 1 << (rng.next() % 8))
                case 1: bytes.remove(at: at)
                case 2: bytes.insert(bytes[at], at: at)
                default: bytes[at] = specials[Int(rng.next() % UInt64(specials.count))]
                }
                if bytes.isEmpty { break }
            }
            do {
                let value = try JSONParser.parse(bytes)
                parsed += 1
                #expect(try JSONParser.parse(Array(value.jsonText.utf8)) == value, "\(bytes)")
            } catch {
                refused += 1
            }
        }
        #expect(parsed > 1_000 && refused > 1_000, "parsed \(parsed), refused \(refused)")
    }

    /// A small seeded generator (SplitMix64), so a failing mutant can be found again.
    struct SplitMix {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test func compactTextOfAValueParsesBackToIt() throws {
        let value = try JSONParser.parse(Array(#"{ "sdp" : "v=0\r\n", "list": [1, 2.5, null, false, {"x": "é"}] }"#.utf8))
        #expect(value.jsonText == #"{"sdp":"v=0\r\n","list":[1,2.5,null,false,{"x":"é"}]}"#)
        #expect(try JSONParser.parse(Array(value.jsonText.utf8)) == value)
    }
}
