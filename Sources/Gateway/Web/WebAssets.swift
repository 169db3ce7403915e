import Foundation
import WebSocket

/// The reference web client's files (`GET /`, `/app.js`, …), served on the same port as
/// `/ws`. They ship with the binary as SwiftPM resources (`Sources/Gateway/Web/Assets`);
/// `web-root` points at a directory to serve instead, re-read on every request so an edit
/// shows at the next reload.
///
/// Caching: every answer carries a strong `ETag` (a hash of the bytes) and
/// `Cache-Control: no-cache`, so a browser keeps its copy and revalidates it with
/// `If-None-Match` (304, no body). Hashed file names would save the revalidation, but ES
/// modules import each other by name, and rewriting imports needs a build step.
public struct WebAssets: Sendable {
    /// A file ready to send.
    struct Asset: Sendable {
        var bytes: [UInt8]
        var contentType: String
        var etag: String
    }

    /// The bundled files, loaded once; nil when serving `overrideRoot` or when none were found.
    private let bundled: [String: Asset]?
    /// `web-root`: files read at each request.
    private let overrideRoot: String?

    /// Where the files come from, for the start-up log line.
    public let origin: String

    /// - Parameter root: `web-root`, or nil for the files that ship with the binary.
    public init(root: String?) {
        if let root {
            overrideRoot = root
            bundled = nil
            origin = root
        } else if let directory = Self.bundledDirectory() {
            overrideRoot = nil
            bundled = Self.loadTree(directory)
            origin = directory
        } else {
            overrideRoot = nil
            bundled = nil
            origin = "none (the resource bundle presence-gateway_Gateway.resources is not next to the binary)"
        }
    }

    /// The response for a `GET` of `path`, or nil when no such file exists (the caller answers 404).
    public func response(path: String, ifNoneMatch: String?) -> HTTPResponse? {
        guard let relative = Self.relativePath(path), let asset = asset(relative) else { return nil }
        var headers = Self.securityHeaders
        headers.append(("Content-Type", asset.contentType))
        headers.append(("Cache-Control", "no-cache"))
        headers.append(("ETag", asset.etag))
        if let ifNoneMatch, ifNoneMatch.split(separator: ",").contains(where: {
            let tag = $0.trimmingCharacters(in: .whitespaces)
            return tag == asset.etag || tag == "*"
        }) {
            return HTTPResponse(status: 304, headers: headers)
        }
        return HTTPResponse(status: 200, headers: headers, body: asset.bytes)
    }

    /// Sent with every file. The page loads only its own scripts, styles and images, talks
    /// only to its own origin (`connect-src 'self'` covers the same-origin `/ws`), and may not
    /// be framed. No inline script or style anywhere, and no third-party origin: Sign in with
    /// Google is a top-level navigation, which CSP does not govern.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "manifest-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

    static let securityHeaders: [(name: String, value: String)] = [
        ("Content-Security-Policy", contentSecurityPolicy),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("X-Frame-Options", "DENY"),
    ]

    private func asset(_ relative: String) -> Asset? {
        if let bundled { return bundled[relative] }
        guard let overrideRoot else { return nil }
        let path = overrideRoot + "/" + relative
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
              let data = FileManager.default.contents(atPath: path) else { return nil }
        return Self.asset(Array(data), name: relative)
    }

    /// `/` → `index.html`; `/app.js` → `app.js`. Refuses `..`, hidden names and empty segments,
    /// so nothing outside the root (and no dotfile) is ever read.
    static func relativePath(_ path: String) -> String? {
        if path == "/" { return "index.html" }
        guard path.hasPrefix("/") else { return nil }
        let segments = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        guard !segments.isEmpty,
              segments.allSatisfy({ !$0.isEmpty && !$0.hasPrefix(".") && !$0.contains("\\") && !$0.contains("%") })
        else { return nil }
        return segments.joined(separator: "/")
    }

    static func asset(_ bytes: [UInt8], name: String) -> Asset {
        Asset(bytes: bytes, contentType: contentType(of: name), etag: etag(of: bytes))
    }

    static func contentType(of name: String) -> String {
        switch name.split(separator: ".").last.map(String.init) ?? "" {
        case "html": return "text/html; charset=utf-8"
        case "js", "mjs": return "text/javascript; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "svg": return "image/svg+xml"
        case "png": return "image/png"
        case "ico": return "image/x-icon"
        case "json", "webmanifest": return "application/json"
        case "txt": return "text/plain; charset=utf-8"
        default: return "application/octet-stream"
        }
    }

    /// A strong validator: 64-bit FNV-1a of the bytes and their length. It only has to
    /// change when the bytes do; nothing secret depends on it.
    static func etag(of bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return "\"\(String(hash, radix: 16))-\(String(bytes.count, radix: 16))\""
    }

    /// Every regular file under `directory`, by path relative to it.
    static func loadTree(_ directory: String) -> [String: Asset] {
        var assets: [String: Asset] = [:]
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return assets }
        while let relative = walker.nextObject() as? String {
            let path = directory + "/" + relative
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                  relativePath("/" + relative) != nil, let data = FileManager.default.contents(atPath: path) else { continue }
            assets[relative] = asset(Array(data), name: relative)
        }
        return assets
    }

    /// The `Assets` folder of SwiftPM's resource bundle. Looked up by hand rather than through
    /// `Bundle.module`, which stops the process when the bundle is missing (a binary copied
    /// without it): then the server runs without the web client instead.
    static func bundledDirectory() -> String? {
        let bundleName = "presence-gateway_Gateway.resources"
        var candidates: [String] = []
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append((executable as NSString).deletingLastPathComponent + "/" + bundleName)
        }
        candidates.append(Bundle.main.bundlePath + "/" + bundleName)
        for bundle in candidates {
            let directory = bundle + "/Assets"
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: directory + "/index.html", isDirectory: &isDirectory), !isDirectory.boolValue {
                return directory
            }
        }
        return nil
    }
}
