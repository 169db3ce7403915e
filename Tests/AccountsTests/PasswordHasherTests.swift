import Foundation
import XCTest
@testable import Accounts

final class PasswordHasherTests: XCTestCase {
    func testHashVerifiesOnlyItsOwnPassword() {
        let encoded = testHasher.hash(goodPassword)
        XCTAssertTrue(testHasher.verify(goodPassword, against: encoded))
        XCTAssertFalse(testHasher.verify("Correct-Horse-8", against: encoded))
        XCTAssertFalse(testHasher.verify("", against: encoded))
    }

    func testEncodingCarriesParametersAndAFreshSaltEachTime() {
        let first = testHasher.hash(goodPassword), second = testHasher.hash(goodPassword)
        XCTAssertTrue(first.hasPrefix("$scrypt$ln=10,r=8,p=1$"), first)
        XCTAssertNotEqual(first, second, "per-hash random salt")
        XCTAssertEqual(first.split(separator: "$").count, 4)
    }

    func testHashMadeWithOldParametersStillVerifiesAndNeedsRehash() {
        let old = PasswordHasher(parameters: ScryptParameters(logN: 9, r: 8, p: 1)).hash(goodPassword)
        XCTAssertTrue(testHasher.verify(goodPassword, against: old), "parameters are read from the hash")
        XCTAssertTrue(testHasher.needsRehash(old))
        XCTAssertFalse(testHasher.needsRehash(testHasher.hash(goodPassword)))
    }

    func testMalformedOrTamperedHashesNeverVerify() {
        let good = testHasher.hash(goodPassword)
        let parts = good.split(separator: "$", omittingEmptySubsequences: false).map(String.init)
        var flipped = Array(parts[4])
        flipped[0] = flipped[0] == "A" ? "B" : "A"
        let table = [
            "", "plain", "$scrypt$", "$bcrypt$ln=10,r=8,p=1$\(parts[3])$\(parts[4])",
            "$scrypt$ln=10,r=8$\(parts[3])$\(parts[4])",
            "$scrypt$ln=10,r=8,p=1$\(parts[3])$\(String(flipped))",
            "$scrypt$ln=10,r=8,p=1$!!$\(parts[4])",
            // A forged cost far beyond the limit must be refused, not computed (32 GiB).
            "$scrypt$ln=28,r=8,p=1$\(parts[3])$\(parts[4])",
        ]
        for encoded in table {
            XCTAssertFalse(testHasher.verify(goodPassword, against: encoded), encoded)
        }
        XCTAssertTrue(testHasher.needsRehash("garbage"))
    }

    func testCanonicallyEquivalentPasswordsMatch() {
        let composed = "Caf\u{E9}-Latte-42", decomposed = "Cafe\u{301}-Latte-42"
        XCTAssertTrue(testHasher.verify(decomposed, against: testHasher.hash(composed)))
    }

    func testKnownAnswerOfRFC7914() {
        // RFC 7914 §12, second vector: P="password", S="NaCl", N=1024, r=8, p=16, 64 bytes.
        let derived = PasswordHasher.derive("password", salt: Array("NaCl".utf8),
                                            parameters: ScryptParameters(logN: 10, r: 8, p: 16), length: 64)
        let hex = derived?.map { String(format: "%02x", $0) }.joined()
        XCTAssertEqual(hex, "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
            + "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640")
    }
}
