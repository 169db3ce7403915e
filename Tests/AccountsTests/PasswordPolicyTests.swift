import XCTest
@testable import Accounts

final class PasswordPolicyTests: XCTestCase {
    let policy = PasswordPolicy(minimumLength: 10, maximumLength: 128)

    func testEveryBrokenRuleIsNamed() {
        let table: [(password: String, broken: [PasswordRule])] = [
            ("Correct-Horse-9", []),
            ("Aa1!Aa1!Aa", []),
            ("", [.tooShort(minimum: 10), .missingUppercase, .missingLowercase, .missingDigit, .missingSymbol]),
            ("Aa1!", [.tooShort(minimum: 10)]),
            ("correct-horse-9", [.missingUppercase]),
            ("CORRECT-HORSE-9", [.missingLowercase]),
            ("Correct-Horse-X", [.missingDigit]),
            ("CorrectHorse99", [.missingSymbol]),
            ("correcthorsebattery", [.missingUppercase, .missingDigit, .missingSymbol]),
            ("Correct Horse 9", []),                       // a space is non-alphanumeric
            ("Corréct9horse", []),                         // so is a non-English letter
            ("ÀÉÎÕÜ12345!", [.missingUppercase, .missingLowercase]),  // English letters only
            ("Aa1!" + String(repeating: "x", count: 125), [.tooLong(maximum: 128)]),
        ]
        for (password, broken) in table {
            XCTAssertEqual(policy.violations(of: password), broken, password)
        }
    }

    func testRejectionErrorListsEveryRuleInItsMessage() {
        XCTAssertThrowsError(try policy.validate("abc")) { error in
            guard let error = error as? AccountsError, case .passwordRejected(let rules) = error else { return XCTFail() }
            XCTAssertEqual(rules, [.tooShort(minimum: 10), .missingUppercase, .missingDigit, .missingSymbol])
            XCTAssertEqual(error.message, "The password must have at least 10 characters; an uppercase letter (A-Z); "
                + "a digit (0-9); a character that is not a letter or digit (e.g. ! @ # $ &).")
            XCTAssertEqual(error.httpStatus, 400)
        }
    }

    func testLengthCountsCharactersNotBytes() {
        // Ten characters, more than ten bytes.
        XCTAssertEqual(policy.violations(of: "Aa1ééééééé"), [])
    }
}
