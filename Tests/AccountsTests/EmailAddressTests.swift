import XCTest
@testable import Accounts

final class EmailAddressTests: XCTestCase {
    func testAddressesNormaliseToLowercaseIDsOrAreRefused() {
        let table: [(String, String?)] = [
            ("ann@example.com", "ann@example.com"),
            ("  Ann.Lee+chat@Example.COM \n", "ann.lee+chat@example.com"),
            ("o'brien@mail.example.ie", "o'brien@mail.example.ie"),
            ("", nil),
            ("ann", nil),
            ("ann@", nil),
            ("@example.com", nil),
            ("ann@localhost", nil),
            ("ann@@example.com", nil),
            ("a nn@example.com", nil),
            (".ann@example.com", nil),
            ("ann..lee@example.com", nil),
            ("ann@-example.com", nil),
            ("ann@example..com", nil),
            ("zoë@example.com", nil),
            ("ann@example.com\r\nBcc: victim@example.com", nil),
            (String(repeating: "a", count: 65) + "@example.com", nil),
        ]
        for (input, expected) in table {
            XCTAssertEqual(EmailAddress.normalized(input), expected, input)
        }
    }
}
