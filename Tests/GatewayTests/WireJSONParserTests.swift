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

    @Test func compactTextOfAValueParsesBackToIt() throws {
        let value = try JSONParser.parse(Array(#"{ "sdp" : "v=0\r\n", "list": [1, 2.5, null, false, {"x": "é"}] }"#.utf8))
        #expect(value.jsonText == #"{"sdp":"v=0\r\n","list":[1,2.5,null,false,{"x":"é"}]}"#)
        #expect(try JSONParser.parse(Array(value.jsonText.utf8)) == value)
    }
}
