import Testing
@testable import Transport

/// The client-address rule behind reverse proxies, with no sockets: which `X-Forwarded-For`
/// entry names the client, and what is refused.
@Suite struct TrustedProxiesTests {
    static let loopbackAndPrivate = TrustedProxies(parsing: ["127.0.0.1", "10.0.0.0/8", "fd00::/8"])!

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let peer: String
        let forwardedFor: [String]
        let expected: TrustedProxies.Resolution
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "untrusted peer: its header is ignored", peer: "198.51.100.7", forwardedFor: ["203.0.113.5"], expected: .peer),
        Case(name: "trusted peer without a header is the client", peer: "127.0.0.1", forwardedFor: [], expected: .peer),
        Case(name: "trusted peer names the client", peer: "127.0.0.1", forwardedFor: ["203.0.113.5"], expected: .forwarded("203.0.113.5")),
        Case(name: "a client-sent prefix is ignored", peer: "127.0.0.1", forwardedFor: ["1.2.3.4, 203.0.113.5"],
             expected: .forwarded("203.0.113.5")),
        Case(name: "a client claiming to be a trusted proxy is ignored", peer: "127.0.0.1", forwardedFor: ["127.0.0.1, 203.0.113.5"],
             expected: .forwarded("203.0.113.5")),
        Case(name: "garbage left of the client is never read", peer: "127.0.0.1", forwardedFor: ["<script>, unknown,, 203.0.113.5"],
             expected: .forwarded("203.0.113.5")),
        Case(name: "trusted hops right of the client are skipped", peer: "127.0.0.1", forwardedFor: ["203.0.113.5, 10.1.2.3, 10.9.9.9"],
             expected: .forwarded("203.0.113.5")),
        Case(name: "several header fields are one list, the last field right-most", peer: "127.0.0.1",
             forwardedFor: ["1.2.3.4", "203.0.113.5, 10.1.2.3"], expected: .forwarded("203.0.113.5")),
        Case(name: "optional whitespace and tabs around entries", peer: "127.0.0.1", forwardedFor: ["1.2.3.4 ,\t203.0.113.5\t "],
             expected: .forwarded("203.0.113.5")),
        Case(name: "every entry trusted: the left-most", peer: "127.0.0.1", forwardedFor: ["10.0.0.9, 10.0.0.8"], expected: .forwarded("10.0.0.9")),
        Case(name: "IPv6 client, canonical text", peer: "127.0.0.1", forwardedFor: ["2001:DB8:0:0::0001"], expected: .forwarded("2001:db8::1")),
        Case(name: "IPv4-mapped client is the IPv4 address", peer: "127.0.0.1", forwardedFor: ["::ffff:203.0.113.5"],
             expected: .forwarded("203.0.113.5")),
        Case(name: "IPv6 trusted proxy range", peer: "fd00::1", forwardedFor: ["203.0.113.5"], expected: .forwarded("203.0.113.5")),
        Case(name: "IPv4-mapped peer on a dual-stack socket is trusted as IPv4", peer: "::ffff:127.0.0.1", forwardedFor: ["203.0.113.5"],
             expected: .forwarded("203.0.113.5")),
        Case(name: "malformed right-most entry", peer: "127.0.0.1", forwardedFor: ["203.0.113.5, not-an-address"], expected: .malformed),
        Case(name: "empty header", peer: "127.0.0.1", forwardedFor: [""], expected: .malformed),
        Case(name: "trailing comma", peer: "127.0.0.1", forwardedFor: ["203.0.113.5,"], expected: .malformed),
        Case(name: "address with a port", peer: "127.0.0.1", forwardedFor: ["203.0.113.5:4711"], expected: .malformed),
        Case(name: "bracketed IPv6", peer: "127.0.0.1", forwardedFor: ["[2001:db8::1]"], expected: .malformed),
        Case(name: "IPv4 with a leading zero", peer: "127.0.0.1", forwardedFor: ["203.0.113.05"], expected: .malformed),
        Case(name: "malformed behind a trusted hop", peer: "127.0.0.1", forwardedFor: ["bogus, 10.0.0.1"], expected: .malformed),
        Case(name: "unix-socket peer is never a proxy", peer: "unix", forwardedFor: ["203.0.113.5"], expected: .peer),
    ]

    @Test(arguments: cases) func resolves(_ c: Case) {
        #expect(Self.loopbackAndPrivate.resolve(peer: c.peer, forwardedFor: c.forwardedFor) == c.expected)
    }

    @Test func noTrustedProxiesIgnoresTheHeaderEvenFromLoopback() {
        #expect(TrustedProxies().resolve(peer: "127.0.0.1", forwardedFor: ["203.0.113.5"]) == .peer)
        #expect(TrustedProxies().clientAddress(peer: "127.0.0.1", forwardedFor: ["203.0.113.5"]) == "127.0.0.1")
    }

    @Test func malformedFallsBackToThePeer() {
        #expect(Self.loopbackAndPrivate.clientAddress(peer: "127.0.0.1", forwardedFor: ["nonsense"]) == "127.0.0.1")
    }

    @Test(arguments: [
        ("10.0.0.0/8", "10.255.1.2", true), ("10.0.0.0/8", "11.0.0.1", false),
        ("192.168.4.0/22", "192.168.7.255", true), ("192.168.4.0/22", "192.168.8.0", false),
        ("127.0.0.1", "127.0.0.1", true), ("127.0.0.1", "127.0.0.2", false),
        ("0.0.0.0/0", "203.0.113.5", true), ("0.0.0.0/0", "2001:db8::1", false),
        ("fd00::/8", "fdff::1", true), ("fd00::/8", "fe80::1", false),
        ("2001:db8::/64", "2001:db8::ffff:1", true), ("2001:db8::/64", "2001:db8:0:1::1", false),
        ("::1", "::1", true), ("::1", "127.0.0.1", false),
    ])
    func rangeMembership(range: String, address: String, isMember: Bool) throws {
        let r = try #require(AddressRange(parsing: range))
        #expect(r.contains(try #require(IPAddress(parsing: address))) == isMember)
    }

    @Test(arguments: ["", "localhost", "10.0.0.0/33", "::/129", "10.0.0.1/8", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/+8",
                      "10.0.0.0/8/8", "fd00::1/8", "1.2.3", "1.2.3.4.5", " 10.0.0.1", "[::1]"])
    func refusedRanges(_ text: String) {
        #expect(AddressRange(parsing: text) == nil)
    }

    @Test func rangesPrintAsWritten() {
        #expect(AddressRange(parsing: "10.0.0.0/8")?.description == "10.0.0.0/8")
        #expect(AddressRange(parsing: "127.0.0.1")?.description == "127.0.0.1/32")
        #expect(AddressRange(parsing: "fd00::/8")?.description == "fd00::/8")
        #expect(TrustedProxies(parsing: ["127.0.0.1", "nope"]) == nil)
    }
}
