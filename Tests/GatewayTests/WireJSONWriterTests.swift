import Foundation
import Testing
@testable import Gateway

@Suite struct WireJSONWriterTests {
    static let awkwardStrings: [String] = [
        "", "plain", "quote \" inside", "back\\slash", "both \\\" mixed", "slash / stays",
        "new\nline", "tab\tcarriage\rreturn", "\u{08}\u{0C}", "nul \u{0} and \u{1F} and \u{7F}",
        "naïve café", "日本語のテキスト", "emoji 🎉👩‍👩‍👧‍👦", "\u{2028}\u{2029}", "\"\\\n\u{01}🙂",
    ]

    @Test(arguments: awkwardStrings)
    func stringEscapingRoundTripsThroughFoundation(_ text: String) throws {
        var json = JSONWriter()
        json.beginObject()
        json.key("text"); json.string(text)
        json.endObject()
        let parsed = try foundationObject(json.bytes)
        #expect(parsed["text"] as? String == text)
    }

    @Test(arguments: awkwardStrings)
    func stringEscapingRoundTripsThroughOwnParser(_ text: String) throws {
        var json = JSONWriter()
        json.string(text)
        #expect(try JSONParser.parse(json.bytes) == .string(text))
    }

    @Test func controlCharactersUseShortEscapesOrUnicodeEscapes() {
        var json = JSONWriter()
        json.string("\u{0}\u{1F}\n\"\\")
        #expect(String(decoding: json.bytes, as: UTF8.self) == #""\u0000\u001f\n\"\\""#)
    }

    @Test func nonASCIIIsWrittenAsUTF8NotEscaped() {
        var json = JSONWriter()
        json.string("é🎉")
        #expect(json.bytes == Array("\"é🎉\"".utf8))
    }

    @Test(arguments: [UInt64(0), 9, 10, 12345, UInt64(Int64.max), UInt64.max])
    func unsignedNumbersAreDecimal(_ value: UInt64) {
        var json = JSONWriter()
        json.number(value)
        #expect(String(decoding: json.bytes, as: UTF8.self) == String(value))
    }

    @Test(arguments: [Int64.min, -1, 0, 1_700_000_000_000, Int64.max])
    func signedNumbersAreDecimal(_ value: Int64) {
        var json = JSONWriter()
        json.number(value)
        #expect(String(decoding: json.bytes, as: UTF8.self) == String(value))
    }

    @Test func commasSeparateMembersAndItemsAtEveryLevel() {
        var json = JSONWriter()
        json.beginObject()
        json.key("a"); json.beginArray(); json.number(1); json.beginObject(); json.endObject(); json.null(); json.endArray()
        json.key("b"); json.bool(true)
        json.endObject()
        #expect(String(decoding: json.bytes, as: UTF8.self) == #"{"a":[1,{},null],"b":true}"#)
    }
}
