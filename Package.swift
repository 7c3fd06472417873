// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Tandem",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tandem", targets: ["tandem"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // SIP message model: byte parser, lazy header access, serializer, URIs.
        .target(name: "SIPCore", swiftSettings: strict),
        // Syscall layer, epoll reactor, timers, eventfd wake-up, UDP sockets.
        .target(name: "Reactor", dependencies: ["CReactor"], swiftSettings: strict),
        // C shim exposing epoll/eventfd/errqueue headers (not in Swift's Glibc module).
        .target(name: "CReactor"),
        // Start-up hook of the `tandem` executable that runs before shared-library constructors.
        .target(name: "CTandemStart"),
        // RFC 3261 transaction state machines (pure: events in, actions out).
        .target(name: "SIPTransaction", swiftSettings: strict),
        // Stateful proxy core: transaction table, relay, Via/Record-Route/loose routing, UDP workers.
        .target(
            name: "TandemProxy",
            dependencies: [
                "SIPCore", "Reactor", "SIPTransaction", "DNSResolver", "TLSTransport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Routing script language: lexer, parser, checker, compiler, interpreter.
        .target(
            name: "TandemScript",
            dependencies: [],
            swiftSettings: strict
        ),
        // Async engine behind async()/launch(): native reactor drivers, offload pool, completion queue.
        .target(name: "TandemAsync", dependencies: ["Reactor"], swiftSettings: strict),
        // libpq (PostgreSQL client library) for the postgres driver.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        // PostgreSQL driver for the async engine: per-worker non-blocking connection pool + query operation.
        .target(name: "PostgresDriver", dependencies: ["CLibPQ", "TandemAsync", "Reactor"], swiftSettings: strict),
        // MariaDB Connector/C (MySQL/MariaDB client library, with its non-blocking API) for the mysql driver.
        .systemLibrary(name: "CMariaDB", pkgConfig: "libmariadb", providers: [.apt(["libmariadb-dev"])]),
        // MySQL/MariaDB driver for the async engine: per-worker non-blocking connection pool + query operation.
        .target(name: "MySQLDriver", dependencies: ["CMariaDB", "TandemAsync", "Reactor"], swiftSettings: strict),
        // libcurl (system library; typed wrappers for its variadic calls).
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // HTTP client driver (rest_client semantics): libcurl multi on the worker's reactor.
        .target(name: "HTTPDriver", dependencies: ["CCurl", "TandemAsync", "Reactor"], swiftSettings: strict),
        // libmongoc/libbson (MongoDB C driver, system library).
        .systemLibrary(name: "CMongoC", pkgConfig: "libmongoc-1.0", providers: [.apt(["libmongoc-dev"])]),
        // MongoDB driver for the async engine: shared client pool + command operations (blocking form only).
        .target(name: "MongoDriver", dependencies: ["CMongoC", "TandemAsync"], swiftSettings: strict),
        // OpenLDAP client library (libldap/liblber; typed helpers for pointer macros and timeouts).
        .systemLibrary(name: "CLDAP", pkgConfig: "ldap", providers: [.apt(["libldap-dev"])]),
        // LDAP driver for the async engine (OpenSIPS ldap semantics): per-worker async-bind pool + search operation.
        .target(name: "LDAPDriver", dependencies: ["CLDAP", "TandemAsync", "Reactor"], swiftSettings: strict),
        // c-ares (asynchronous DNS resolver, system library).
        .systemLibrary(name: "CAres", pkgConfig: "libcares", providers: [.apt(["libc-ares-dev"])]),
        // DNS on the native path: a c-ares channel per worker reactor, shared TTL cache, RFC 3263 locator.
        .target(name: "DNSResolver", dependencies: ["CAres", "Reactor", "TandemAsync"], swiftSettings: strict),
        // OpenSSL 3 (libssl/libcrypto, system library; typed wrappers for its function-like macros).
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        // TLS over memory BIOs: contexts from tls_mgm domains, per-connection sessions driven by bytes only.
        .target(
            name: "TLSTransport",
            dependencies: ["COpenSSL", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        // Operations endpoint: metrics (swift-metrics → Prometheus), /stats and /health over HTTP (NIO).
        .target(
            name: "TandemOperations",
            dependencies: [
                "TandemProxy", "TandemAsync", "DNSResolver",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Wires the script to the proxy core and runs the server.
        .target(
            name: "TandemServer",
            dependencies: [
                "TandemProxy", "TandemScript", "TandemAsync", "PostgresDriver", "MySQLDriver", "HTTPDriver", "MongoDriver", "LDAPDriver", "DNSResolver",
                "TandemOperations", "SIPCore", "Reactor", "TLSTransport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "tandem",
            dependencies: [
                "TandemServer", "TandemScript", "TandemOperations", "TLSTransport", "Reactor", "CTandemStart",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // Shared by test targets only: the in-memory proxy core (manual clock, memory transport) and the
        // helpers that find the test servers, pick ports and wait.
        .target(
            name: "TandemTestSupport",
            dependencies: ["TandemProxy", "SIPCore", "Reactor", "SIPTransaction"],
            swiftSettings: strict
        ),
        .testTarget(name: "SIPCoreTests", dependencies: ["SIPCore", "TandemTestSupport"], resources: [.copy("Torture")], swiftSettings: strict),
        .testTarget(name: "ReactorTests", dependencies: ["Reactor", "TandemTestSupport"], swiftSettings: strict),
        .testTarget(name: "SIPTransactionTests", dependencies: ["SIPTransaction", "TandemTestSupport"], swiftSettings: strict),
        .testTarget(name: "TandemAsyncTests", dependencies: ["TandemAsync", "Reactor", "TandemTestSupport"], swiftSettings: strict),
        // Runs offload jobs in a process of its own: OffloadTests counts that process's threads.
        .executableTarget(name: "offload-probe", dependencies: ["TandemAsync", "Reactor"], path: "Tests/OffloadProbe",
                          swiftSettings: strict),
        .testTarget(name: "PostgresDriverTests", dependencies: ["PostgresDriver", "TandemAsync", "Reactor", "TandemTestSupport"], swiftSettings: strict),
        .testTarget(name: "MySQLDriverTests", dependencies: ["MySQLDriver", "TandemAsync", "Reactor", "TandemTestSupport"], swiftSettings: strict),
        .testTarget(name: "HTTPDriverTests", dependencies: ["HTTPDriver", "TandemAsync", "Reactor", "TandemTestSupport"], swiftSettings: strict),
        .testTarget(name: "MongoDriverTests", dependencies: ["MongoDriver", "TandemAsync", "Reactor", "TandemTestSupport"], swiftSettings: strict),
        .testTarget(name: "LDAPDriverTests", dependencies: ["LDAPDriver", "TandemAsync", "Reactor", "TandemTestSupport"], swiftSettings: strict),
        .testTarget(name: "DNSResolverTests", dependencies: ["DNSResolver", "Reactor", "TandemTestSupport"], swiftSettings: strict),
        .testTarget(name: "TLSTransportTests", dependencies: ["TLSTransport", "TandemTestSupport"], swiftSettings: strict),
        .testTarget(name: "TandemScriptTests", dependencies: ["TandemScript", "TandemTestSupport"], swiftSettings: strict),
        .testTarget(
            name: "TandemProxyTests",
            dependencies: ["TandemProxy", "TandemServer", "TandemOperations", "TandemAsync", "SIPCore", "Reactor", "SIPTransaction",
                           "MongoDriver", "LDAPDriver", "HTTPDriver", "TandemScript", "TandemTestSupport"],
            swiftSettings: strict
        ),
    ]
)
