// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Relance",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "relance", targets: ["relance"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0", traits: ["YAML"]),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        // Already in the graph (Hummingbird, swift-configuration); named because our
        // modules import their products.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    ],
    targets: [
        // libcurl, with small non-variadic wrappers around curl_easy_setopt/getinfo.
        .target(
            name: "CCurl",
            linkerSettings: [.linkedLibrary("curl")]
        ),
        // SHA-256, HMAC and DKIM keys from OpenSSL's libcrypto; bcrypt from libxcrypt
        // (the console's passwords).
        .target(
            name: "CCrypto",
            linkerSettings: [.linkedLibrary("crypto"), .linkedLibrary("crypt")]
        ),
        // Value types and pure domain rules. No I/O.
        .target(name: "RelanceCore", dependencies: ["CCrypto"]),
        // zlib, found through pkg-config: the message archive's compression.
        .systemLibrary(
            name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]),
        .target(
            name: "RelanceStore",
            dependencies: [
                "RelanceCore", "CZlib",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // The PostgreSQL backend of the store roles (several daemons, one job table).
        .target(
            name: "RelanceStorePostgres",
            dependencies: [
                "RelanceCore", "RelanceStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .target(
            name: "RelanceTemplates",
            dependencies: [
                "RelanceCore",
                .product(name: "Mustache", package: "swift-mustache"),
            ]
        ),
        // What the e-mail and SMS transports share: a libcurl session per worker, outbox files.
        .target(
            name: "RelanceTransport",
            dependencies: ["RelanceCore", "CCurl"]
        ),
        .target(
            name: "RelanceEmail",
            dependencies: ["RelanceCore", "RelanceTransport", "CCurl", "CCrypto"]
        ),
        // SMS: GSM 03.38 text rules, gateway providers over libcurl, outbox.
        .target(
            name: "RelanceSMS",
            dependencies: ["RelanceCore", "RelanceTransport", "CCurl"]
        ),
        // The domain services: enqueue checks, composing a message, invoices and their
        // scenarios, the step report, the template check. No process plumbing.
        .target(
            name: "RelanceDunning",
            dependencies: [
                "RelanceCore", "RelanceStore", "RelanceTemplates", "RelanceTransport", "RelanceEmail", "RelanceSMS",
                "RelanceLetters", "RelanceQR",
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // The HTTP API: routes, authentication, errors. Knows the store and the domain
        // services, not the daemon.
        .target(
            name: "RelanceAPI",
            dependencies: [
                "RelanceCore", "RelanceStore", "RelanceDunning", "RelancePayments", "CCrypto",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ]
        ),
        // The web console: server-rendered pages for the finance team and the bank's
        // advisor, sessions, roles and the actions' audit trail. Knows the store and the
        // domain services, not the daemon.
        .target(
            name: "RelanceConsole",
            dependencies: [
                "RelanceCore", "RelanceStore", "RelanceDunning", "RelanceTemplates", "CCrypto",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "RelanceDaemon",
            dependencies: [
                "RelanceCore", "RelanceStore", "RelanceStorePostgres", "RelanceTemplates", "RelanceTransport",
                "RelanceEmail", "RelanceSMS", "RelanceLetters", "RelanceDunning", "RelanceAPI", "RelanceConsole",
                "CProcessTuning",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "SystemPackage", package: "swift-system"),
                // Already in the graph through swift-configuration's YAML trait; used to
                // find unknown keys with their line numbers.
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // Pango and Cairo (with its PDF backend), found through pkg-config.
        .systemLibrary(
            name: "CPangoCairo",
            pkgConfig: "pangocairo",
            providers: [.apt(["libpango1.0-dev", "libcairo2-dev"]), .brew(["pango", "cairo"])]
        ),
        // Process-wide C-level settings: zlib's default level for Cairo's PDF streams (1
        // instead of 6, deflate_level.c) and glibc's malloc trim threshold (malloc_tuning.c).
        .target(
            name: "CProcessTuning",
            linkerSettings: [.linkedLibrary("z")]
        ),
        // libqrencode (QR code symbols), found through pkg-config.
        .systemLibrary(
            name: "CQREncode",
            pkgConfig: "libqrencode",
            providers: [.apt(["libqrencode-dev"]), .brew(["qrencode"])]
        ),
        // EPC QR codes (SEPA credit transfer) for letters and e-mails: the symbol from
        // libqrencode, its PNG written in Swift.
        .target(name: "RelanceQR", dependencies: ["CQREncode", "RelanceCore"]),
        // Postal letters: lays out a letter (address in the envelope window, invoice table) into a PDF.
        .target(
            name: "RelanceLetters",
            dependencies: ["RelanceCore", "RelanceTransport", "CPangoCairo", "CProcessTuning"]
        ),
        // ISO 20022 bank statements (camt.053, camt.054) read into bank lines, through a
        // small XML reader written for hostile input. Pure: no I/O.
        .target(name: "RelancePayments", dependencies: ["RelanceCore"]),
        .executableTarget(
            name: "relance",
            dependencies: [
                "RelanceCore", "RelanceStore", "RelanceStorePostgres", "RelanceTemplates", "RelanceTransport",
                "RelanceEmail", "RelanceDunning", "RelanceAPI", "RelanceConsole", "RelanceDaemon", "RelancePayments",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The composition alone, timed on one thread, for `make bench` (not installed).
        .executableTarget(
            name: "relance-bench",
            dependencies: [
                "RelanceCore", "RelanceDaemon", "RelanceDunning",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "bench/Sources/relance-bench"
        ),
        .testTarget(name: "RelanceCoreTests", dependencies: ["RelanceCore"]),
        .testTarget(
            name: "RelanceStoreTests",
            dependencies: [
                "RelanceCore", "RelanceStore", "RelanceStorePostgres", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "RelanceTemplatesTests", dependencies: ["RelanceCore", "RelanceTemplates"]),
        .testTarget(name: "RelancePaymentsTests", dependencies: ["RelanceCore", "RelancePayments"]),
        // Decoders the tests use to read messages as a mail reader would (not shipped).
        .target(name: "RelanceTestSupport", path: "Tests/RelanceTestSupport"),
        .testTarget(name: "RelanceEmailTests", dependencies: ["RelanceCore", "RelanceEmail", "RelanceTestSupport"]),
        .testTarget(name: "RelanceAPITests", dependencies: ["RelanceAPI"]),
        .testTarget(
            name: "RelanceConsoleTests", dependencies: ["RelanceConsole", "RelanceCore", "RelanceStore"]),
        .testTarget(name: "RelanceSMSTests", dependencies: ["RelanceCore", "RelanceTransport", "RelanceSMS"]),
        .testTarget(name: "RelanceQRTests", dependencies: ["RelanceQR", "RelanceCore"]),
        .testTarget(name: "RelanceLettersTests", dependencies: ["RelanceLetters", "CPangoCairo", "CProcessTuning"]),
        .testTarget(
            name: "RelanceDaemonTests",
            dependencies: [
                "RelanceCore", "RelanceStore", "RelanceEmail", "RelanceDunning", "RelanceDaemon", "RelanceTestSupport",
                "RelancePayments",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
