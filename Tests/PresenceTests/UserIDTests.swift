import Presence
import Testing

struct UserIDTests {
    @Test func testAddressIsTrimmedAndLowercased() {
        #expect(UserID(email: "  Ann@Example.COM \n")?.email == "ann@example.com")
        #expect(UserID(email: "Ann@Example.com") == UserID(email: "ann@example.com"))
    }

    @Test(arguments: ["", "   ", "ann", "@example.com", "ann@", "ann@@example.com", "a@b@c", "an n@example.com"])
    func testNonAddressIsRejected(_ raw: String) {
        #expect(UserID(email: raw) == nil)
    }

    @Test func testOverlongAddressIsRejected() {
        #expect(UserID(email: String(repeating: "a", count: 250) + "@x.io") == nil)
    }
}

extension UserIDTests {
    /// Addresses on both sides of the byte-level shortcut for already-normalized ASCII:
    /// each must come out exactly as the Unicode-aware path decides.
    @Test(arguments: [
        ("ann@example.com", "ann@example.com"), ("a@b", "a@b"), ("x.y+z@sub.example.org", "x.y+z@sub.example.org"),
        ("Ann@example.com", "ann@example.com"), (" ann@example.com", "ann@example.com"), ("ann@example.com\r\n", "ann@example.com"),
        ("ann@exämple.com", "ann@exämple.com"), ("ÄNN@example.com", "änn@example.com"), ("ann\u{00A0}@example.com", nil),
        ("ann\t@example.com", nil), ("@ann", nil), ("ann@", nil), ("a@b@c", nil), ("ann\u{7F}@x.io", "ann\u{7F}@x.io"),
        ("ann\u{1C}@x.io", "ann\u{1C}@x.io"),
    ] as [(String, String?)])
    func testNormalizedAndUnnormalizedAddressesAgree(_ raw: String, _ expected: String?) {
        #expect(UserID(email: raw)?.email == expected)
    }

    @Test func testLongestNormalizedAddressIsAcceptedAndOneByteMoreIsNot() {
        let longest = String(repeating: "a", count: 249) + "@x.io"
        #expect(longest.utf8.count == 254)
        #expect(UserID(email: longest)?.email == longest)
        #expect(UserID(email: "a" + longest) == nil)
    }
}
