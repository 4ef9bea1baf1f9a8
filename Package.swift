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
    ],
    targets: [
        // libcurl, with small non-variadic wrappers around curl_easy_setopt/getinfo.
        .target(
            name: "CCurl",
            linkerSettings: [.linkedLibrary("curl")]
        ),
        // SHA-256 from OpenSSL's libcrypto.
        .target(
            name: "CCrypto",
            linkerSettings: [.linkedLibrary("crypto")]
        ),
        // Value types and pure domain rules. No I/O.
        .target(name: "RelanceCore", dependencies: ["CCrypto"]),
        .target(
            name: "RelanceStore",
            dependencies: [
                "RelanceCore",
                .product(name: "GRDB", package: "GRDB.swift"),
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
            dependencies: ["RelanceCore", "RelanceTransport", "CCurl"]
        ),
        // SMS: GSM 03.38 text rules, gateway providers over libcurl, outbox.
        .target(
            name: "RelanceSMS",
            dependencies: ["RelanceCore", "RelanceTransport", "CCurl"]
        ),
        // The HTTP API: routes, authentication, errors. Knows the store, not the daemon.
        .target(
            name: "RelanceAPI",
            dependencies: [
                "RelanceCore", "RelanceStore", "CCrypto",
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        .target(
            name: "RelanceDaemon",
            dependencies: [
                "RelanceCore", "RelanceStore", "RelanceTemplates", "RelanceEmail", "RelanceSMS", "RelanceLetters",
                "RelanceAPI", "CProcessTuning",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Configuration", package: "swift-configuration"),
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
        // Postal letters: lays out a letter (address in the envelope window, invoice table) into a PDF.
        .target(
            name: "RelanceLetters",
            dependencies: ["RelanceCore", "RelanceTransport", "CPangoCairo", "CProcessTuning"]
        ),
        .executableTarget(
            name: "relance",
            dependencies: [
                "RelanceDaemon",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "RelanceCoreTests", dependencies: ["RelanceCore"]),
        .testTarget(name: "RelanceStoreTests", dependencies: ["RelanceStore"]),
        .testTarget(name: "RelanceTemplatesTests", dependencies: ["RelanceTemplates"]),
        // Decoders the tests use to read messages as a mail reader would (not shipped).
        .target(name: "RelanceTestSupport", path: "Tests/RelanceTestSupport"),
        .testTarget(name: "RelanceEmailTests", dependencies: ["RelanceEmail", "RelanceTestSupport"]),
        .testTarget(name: "RelanceAPITests", dependencies: ["RelanceAPI"]),
        .testTarget(name: "RelanceSMSTests", dependencies: ["RelanceSMS"]),
        .testTarget(name: "RelanceLettersTests", dependencies: ["RelanceLetters", "CProcessTuning"]),
        .testTarget(name: "RelanceDaemonTests", dependencies: ["RelanceDaemon", "RelanceTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
