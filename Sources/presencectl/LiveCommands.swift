import ArgumentParser
import Foundation
import Glibc
import PresenceClient
import Transport

/// Where a running presenced answers its admin endpoints (its operator listener,
/// `admin-listen`), and with which token.
struct AdminEndpoint: ParsableArguments {
    @Option(help: "The operator listener: http://HOST:PORT, https://HOST:PORT (certificate and name verified) or unix:/PATH.")
    var url = "http://127.0.0.1:9090"

    @Option(help: "PEM file of the CAs to trust for an https:// URL (default: the system's CA store).")
    var caFile: String?

    @Option(help: "The admin token (default: $PRESENCE_ADMIN_TOKEN). Prefer the variable: a flag shows in ps.")
    var token: String?

    /// Opens a connection to the operator listener named by `url`.
    func connect() throws -> (client: WebSocketClient, host: String) {
        if url.hasPrefix("unix:") {
            return (try WebSocketClient(unixPath: String(url.dropFirst(5))), "localhost")
        }
        guard let components = URLComponents(string: url), let scheme = components.scheme, scheme == "http" || scheme == "https",
              let host = components.host else {
            throw ValidationError("--url \(url): expected http://HOST:PORT, https://HOST:PORT or unix:/PATH")
        }
        let address = try Self.address(of: host)
        guard scheme == "https" else {
            return (try WebSocketClient(port: components.port ?? 80, host: address), host)
        }
        // Verified: the chain against --ca-file or the system store, and the URL's host
        // against the certificate. There is no option to skip either.
        let context = try TLSContext(clientTrusting: caFile)
        do {
            return (try WebSocketClient(port: components.port ?? 443, host: address, tlsContext: context, serverName: host), host)
        } catch WebSocketClient.Failure.tls {
            throw ValidationError("--url \(url): the TLS handshake failed (is the certificate trusted and for \(host)?)")
        }
    }

    /// An IP literal for `host`, resolving a name.
    static func address(of host: String) throws -> String {
        if host == "localhost" { return "127.0.0.1" }
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return host }
        guard let resolved = Host(name: host).addresses.first(where: { $0.contains(".") }) else {
            throw ValidationError("--url: cannot resolve \(host)")
        }
        return resolved
    }

    /// Sends one request. - Returns: the status and the JSON body.
    func call(_ method: String, _ path: String) throws -> (status: Int, body: [String: Any]) {
        guard let token = token ?? ProcessInfo.processInfo.environment["PRESENCE_ADMIN_TOKEN"] else {
            throw ValidationError("give --token or set PRESENCE_ADMIN_TOKEN")
        }
        let (client, host) = try connect()
        try client.write("\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\nAuthorization: Bearer \(token)\r\n"
            + "Content-Length: 0\r\nConnection: close\r\n\r\n")
        let response = try client.readHTTPResponse()
        let body = (try? JSONSerialization.jsonObject(with: Data(response.body.utf8))) as? [String: Any] ?? [:]
        guard response.status == 200 else {
            throw AdminRefusal(status: response.status, message: body["message"] as? String ?? response.body)
        }
        return (response.status, body)
    }

    struct AdminRefusal: Error, CustomStringConvertible {
        var status: Int
        var message: String
        var description: String { "the gateway answered \(status): \(message)" }
    }
}

/// Live sessions of a running gateway.
struct SessionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessions", abstract: "List or end live sessions of a running presenced (needs its admin token).",
        subcommands: [List.self, Kick.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every session, live or in its disconnect grace period.")
        @OptionGroup var endpoint: AdminEndpoint

        func run() throws {
            let sessions = try endpoint.call("GET", "/admin/sessions").body["sessions"] as? [[String: Any]] ?? []
            print("SESSION  USER                                DEVICE   CONNECTED  IDLE")
            func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(1, width - text.count)) }
            for s in sessions {
                print(pad(s["session"] as? String ?? "?", 9) + pad(s["user"] as? String ?? "(subscriber)", 36)
                      + pad(s["device"] as? String ?? "?", 9) + pad("\(s["connected"] as? Bool ?? false)", 11)
                      + "\(s["idle"] as? Bool ?? false)")
            }
        }
    }

    struct Kick: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "End a session; its client gets Close 4000 and stops.")
        @OptionGroup var endpoint: AdminEndpoint
        @Argument(help: "The session number, as `sessions list` shows it.") var session: UInt64

        func run() throws {
            _ = try endpoint.call("POST", "/admin/sessions/\(session)/kick")
            print("session \(session) ended")
        }
    }
}

/// A user's effective presence on a running gateway, and why.
struct PresenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "presence", abstract: "Inspect presence on a running presenced (needs its admin token).",
        subcommands: [Why.self])

    struct Why: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "What a user's contacts see, and which sessions and rule of the combination order decided it.")
        @OptionGroup var endpoint: AdminEndpoint
        @Argument(help: "The user's e-mail address.") var email: String

        func run() throws {
            let query = email.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? email
            let e = try endpoint.call("GET", "/admin/presence?user=\(query)").body
            print("\(e["user"] as? String ?? email): contacts see \(e["seenByContacts"] as? String ?? "?")")
            print("  rule:   \(e["rule"] as? String ?? "?")")
            print("  chosen: \(e["chosen"] as? String ?? "?"), in a call: \(e["inCall"] as? Bool ?? false), true status: \(e["trueStatus"] as? String ?? "?")")
            for s in e["sessions"] as? [[String: Any]] ?? [] {
                print("  session \(s["session"] as? String ?? "?"): \(s["device"] as? String ?? "?"), "
                      + "\(s["connected"] as? Bool == true ? "connected" : "in grace period"), \(s["idle"] as? Bool == true ? "idle" : "active")")
            }
        }
    }
}
