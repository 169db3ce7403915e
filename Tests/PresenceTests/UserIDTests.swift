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
