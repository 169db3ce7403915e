// swift-tools-version:6.0
// presence-gateway: a real-time presence and messaging gateway over a hand-rolled
// RFC 6455 server. Module graph (arrows = "may import"), see README.md:
//
//   presenced ─► Gateway ─► Transport ─► WebSocket ─► COpenSSL / CZlib
//                   ├─► Presence (pure domain)
//                   └─► Accounts ─► Storage ─► CSQLite, CPostgres; Accounts ─► COpenSSL, CCurl (JWKS over HTTPS)
//   Transport, Storage, Cluster, Gateway ─► Mailboxes ─► CPosix (the one bounded queue + eventfd between threads)
//   Cluster ─► CHiredis, CPosix, Mailboxes (Redis link on its own epoll loop: leases, membership, rendezvous homes)
//   ClusterWire ─► Presence (shard messages, and the edge/home messages, as bytes between processes)
//   Gateway ─► Cluster, ClusterWire (a cluster node: membership, epochs of shards, node frames over the link)
//   presence-loadtest ─► WebSocket, CPosix (its own epoll client); Gateway, Presence, ClusterWire (bench only); Cluster (link only)
//   presencectl ─► Accounts, Storage (offline administration: load-test accounts)
//   PresenceClient ─► Transport (TLS), WebSocket
import Foundation
import PackageDescription

/// `PRESENCE_ALLOCATOR=system` builds without jemalloc, for the sanitizers, which need their
/// own allocator (a ThreadSanitizer test process linked with jemalloc dies at start with
/// SIGSEGV). Only for `swift test --sanitize=…` runs: every other build, and the shipped
/// binaries, use jemalloc (Sources/CJemalloc/shim.c says why).
let usesJemalloc = ProcessInfo.processInfo.environment["PRESENCE_ALLOCATOR"] != "system"

let package = Package(
    name: "presence-gateway",
    products: [
        .executable(name: "presenced", targets: ["presenced"]),
        .executable(name: "presence-loadtest", targets: ["presence-loadtest"]),
        .executable(name: "presencectl", targets: ["presencectl"]),
    ],
    dependencies: [
        // Command lines whose --help is always true (presenced, presence-loadtest, presencectl).
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // The logging API every server-side Swift library speaks; one line per event.
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        // Latency percentiles in the load generator without binning by hand.
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.1.0"),
        // The metrics API server-side Swift libraries record into; the gateway's counters use it.
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        // Renders swift-metrics as Prometheus text for `GET /metrics`.
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // --- C shims: only what Swift cannot import directly (macros, OSSL_PARAM, epoll). ---
        .target(name: "CPosix", path: "Sources/CPosix"),
        .target(
            name: "COpenSSL", path: "Sources/COpenSSL",
            linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]),
        .target(name: "CZlib", path: "Sources/CZlib", linkerSettings: [.linkedLibrary("z")]),
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite"),
        // libpq (Debian libpq-dev): the PostgreSQL backend of Storage (`--database-url`).
        .systemLibrary(name: "CPostgres", path: "Sources/CPostgres"),
        // libcurl (Debian libcurl4-openssl-dev) fetches Google's signing keys over HTTPS; the
        // shim hides curl_easy_setopt, which is variadic.
        .target(name: "CCurl", path: "Sources/CCurl", linkerSettings: [.linkedLibrary("curl")]),
        // hiredis (Debian libhiredis-dev): the Redis client of the cluster link, its async API
        // driven by Cluster's own epoll loop.
        .systemLibrary(name: "CHiredis", path: "Sources/CHiredis"),
        // jemalloc (Debian libjemalloc-dev): the allocator of every process that links the
        // gateway, configured in its shim (why: Sources/CJemalloc/shim.c).
        .target(name: "CJemalloc", path: "Sources/CJemalloc",
                cSettings: usesJemalloc ? [] : [.define("CJEMALLOC_SYSTEM_ALLOCATOR")],
                linkerSettings: usesJemalloc ? [.linkedLibrary("jemalloc")] : []),

        // --- Pure protocol code: bytes in, bytes or errors out. No sockets, no threads. ---
        .target(name: "WebSocket", dependencies: ["CZlib", "COpenSSL"]),

        // --- How threads talk: `Mailbox`, a bounded queue plus an eventfd (its only syscalls:
        // eventfd, poll). Its own module so the storage writer can use it without depending
        // on Transport's event loops. ---
        .target(name: "Mailboxes", dependencies: ["CPosix"]),

        // --- The only module that makes syscalls: epoll loops, TLS, timers, buffers. ---
        .target(name: "Transport", dependencies: ["WebSocket", "CPosix", "COpenSSL", "Mailboxes"]),

        // --- Pure domain: sessions, contacts, statuses, calls. Commands + time in, effects out. ---
        .target(name: "Presence"),

        // --- Persistence: SQLite (WAL) or PostgreSQL behind small repository types, numbered migrations. ---
        .target(name: "Storage", dependencies: ["CSQLite", "CPostgres", "CPosix", "Mailboxes"]),
        // --- Accounts: password policy, scrypt, device tokens, Google ID tokens, resets, outbox mail. ---
        .target(name: "Accounts", dependencies: ["Storage", "COpenSSL", "CCurl"]),

        // --- Many nodes: node leases, membership and rendezvous homes in Redis (Protocol/cluster.md). ---
        .target(name: "Cluster", dependencies: ["CHiredis", "CPosix", "Mailboxes", "Presence"]),

        // --- Shard messages as bytes and back, for a ClusterBus between processes
        // (Protocol/cluster.md, "Shard messages on the wire"). Pure, like Presence. ---
        .target(name: "ClusterWire", dependencies: ["Presence"]),

        // --- Wiring: HTTP routes, the JSON wire protocol, echo mode. ---
        .target(
            name: "Gateway",
            dependencies: [
                "Transport", "WebSocket", "Presence", "Accounts", "Storage", "CPosix", "Mailboxes", "CJemalloc",
                "Cluster", "ClusterWire",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            // The reference web client (served at `/`); see Sources/Gateway/Web/WebAssets.swift.
            resources: [.copy("Web/Assets")]),

        // --- A Swift client: the tests, tools and anyone embedding the gateway use it. ---
        .target(name: "PresenceClient", dependencies: ["Transport", "WebSocket"]),

        .executableTarget(
            name: "presenced",
            dependencies: [
                "Gateway", "Transport", "Accounts", "Presence",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]),
        .executableTarget(
            name: "presence-loadtest",
            dependencies: [
                "WebSocket", "CPosix",
                // Only `bench` uses these: the event encoder, the fan-out of the core and the
                // password hasher are benchmarked in place, not re-implemented; so is the
                // shard-message codec.
                "Gateway", "Presence", "Accounts", "ClusterWire",
                // Only `link` uses it: the node-to-node link measured through a real Redis.
                "Cluster",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "loadtest/Sources/presence-loadtest"),
        // Offline administration on a stopped server's data directory (seeding load-test
        // users). COpenSSL for SHA-256 and RAND_bytes: `SecretToken` is internal to Accounts.
        .executableTarget(
            name: "presencectl",
            dependencies: [
                "Storage", "Accounts", "COpenSSL", "PresenceClient", "Transport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // libFuzzer entry points; see scripts/fuzz.sh. Built normally they do nothing.
        .executableTarget(name: "fuzz-frame-decoder", dependencies: ["WebSocket"], path: "Fuzz/FrameDecoder"),
        .executableTarget(name: "fuzz-handshake", dependencies: ["WebSocket"], path: "Fuzz/Handshake"),
        .executableTarget(name: "fuzz-cluster-wire", dependencies: ["ClusterWire"], path: "Fuzz/ClusterWire"),

        .testTarget(name: "WebSocketTests", dependencies: ["WebSocket", "CZlib"]),
        .testTarget(name: "MailboxesTests", dependencies: ["Mailboxes"]),
        .testTarget(name: "TransportTests", dependencies: ["Transport", "WebSocket", "PresenceClient", "CPosix", "COpenSSL", "TLSTestSupport"]),
        .testTarget(name: "PresenceTests", dependencies: ["Presence"]),
        .testTarget(name: "GatewayTests", dependencies: ["Gateway", "PresenceClient", "Presence", "Accounts", "Storage", "StorageTestSupport", "TLSTestSupport", "Transport", "WebSocket", "COpenSSL",
                                                              .product(name: "Prometheus", package: "swift-prometheus")]),
        // Picks the engine the storage-touching suites run on (SQLite, or PostgreSQL under
        // scripts/postgres.sh) and hands each test a fresh database.
        .target(name: "StorageTestSupport", dependencies: ["Storage"], path: "Tests/StorageTestSupport"),
        // A test CA and an HTTPS key-set server, shared by the TLS-using test targets.
        .target(name: "TLSTestSupport", path: "Tests/TLSTestSupport"),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "StorageTestSupport"]),
        .testTarget(name: "ClusterTests", dependencies: ["Cluster", "ClusterWire", "Presence"]),
        .testTarget(name: "ClusterWireTests", dependencies: ["ClusterWire", "Presence"]),
        .testTarget(name: "AccountsTests", dependencies: ["Accounts", "Storage", "StorageTestSupport", "TLSTestSupport", "COpenSSL"]),
    ]
)
