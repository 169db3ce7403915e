import Foundation
import Testing
import WebSocket
@testable import Gateway

/// How the web client's files are served; over real sockets and in Chromium in Tests/Browser.
@Suite struct WebAssetsTests {
    @Test func theFilesShipWithTheBuildAsResources() throws {
        let assets = WebAssets(root: nil)
        let page = try #require(assets.response(path: "/", ifNoneMatch: nil))
        #expect(page.status == 200)
        #expect(String(decoding: page.body, as: UTF8.self).contains("<script type=\"module\" src=\"app.js\"></script>"))
        for file in ["/app.js", "/presence-client.js", "/style.css", "/icon.svg"] {
            #expect(assets.response(path: file, ifNoneMatch: nil)?.status == 200, "\(file) missing from the bundle")
        }
    }

    @Test func aMatchingValidatorGets304AndEveryAnswerCarriesTheSecurityHeaders() throws {
        let assets = WebAssets(root: nil)
        let full = try #require(assets.response(path: "/app.js", ifNoneMatch: nil))
        let etag = try #require(full.headers.first { $0.name == "ETag" }?.value)
        let again = try #require(assets.response(path: "/app.js", ifNoneMatch: "\"other\", \(etag)"))
        #expect(again.status == 304 && again.body.isEmpty)
        #expect(!again.serialized().contains(Array("Content-Length".utf8)), "a 304 carries no Content-Length")
        #expect(assets.response(path: "/app.js", ifNoneMatch: "\"other\"")?.status == 200)
        #expect(assets.response(path: "/app.js", ifNoneMatch: "*")?.status == 304, "* matches any current file")
        for response in [full, again] {
            let names = Set(response.headers.map(\.name))
            #expect(names.isSuperset(of: ["Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "Cache-Control", "ETag"]))
        }
        #expect(full.headers.contains { $0.name == "Content-Type" && $0.value == "text/javascript; charset=utf-8" })
    }

    @Test(arguments: ["/../Package.swift", "/a/../../x", "/.git/config", "/x//y", "/%2e%2e/x", "/a\\b", "", "relative"])
    func pathsOutsideTheRootAreRefused(_ path: String) {
        #expect(WebAssets.relativePath(path) == nil)
    }

    @Test func webRootIsReReadSoEditsShowAtOnce() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("web-root-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("sub"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        try "one".write(to: root.appendingPathComponent("index.html"), atomically: true, encoding: .utf8)
        try "x".write(to: root.appendingPathComponent("sub/a.css"), atomically: true, encoding: .utf8)
        let assets = WebAssets(root: root.path)
        let first = try #require(assets.response(path: "/", ifNoneMatch: nil))
        #expect(first.body == Array("one".utf8))
        try "two".write(to: root.appendingPathComponent("index.html"), atomically: true, encoding: .utf8)
        let second = try #require(assets.response(path: "/", ifNoneMatch: nil))
        #expect(second.body == Array("two".utf8))
        #expect(first.headers.first { $0.name == "ETag" }?.value != second.headers.first { $0.name == "ETag" }?.value)
        #expect(assets.response(path: "/sub/a.css", ifNoneMatch: nil)?.headers.contains { $0.value == "text/css; charset=utf-8" } == true)
        #expect(assets.response(path: "/sub", ifNoneMatch: nil) == nil, "a directory is not a file")
        #expect(assets.response(path: "/missing.js", ifNoneMatch: nil) == nil)
    }

    @Test func clientConfigSaysWhetherGoogleIsOn() {
        #expect(String(decoding: ClientConfigWire.response(googleClientID: nil).body, as: UTF8.self) == #"{"google":null}"#)
        #expect(String(decoding: ClientConfigWire.response(googleClientID: "id-1").body, as: UTF8.self) == #"{"google":{"clientId":"id-1"}}"#)
    }
}
