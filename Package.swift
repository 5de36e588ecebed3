// swift-tools-version:6.1
import Foundation
import PackageDescription

/// `hallpass --version`'s commit (issue 21): scripts/build-release.sh sets HALLPASS_COMMIT to
/// `git describe`'s short hash (with `-dirty` for uncommitted changes); other builds say "unknown".
/// Only the one C file that returns it is recompiled when it changes.
let buildCommit: String = {
    let value = ProcessInfo.processInfo.environment["HALLPASS_COMMIT"] ?? ""
    let allowed = value.allSatisfy { $0.isASCII && ($0.isHexDigit || $0 == "-" || $0.isLetter) }
    return !value.isEmpty && value.count <= 64 && allowed ? value : "unknown"
}()

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "hallpass",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "hallpass", targets: ["hallpass"]),
        .library(name: "HallpassCore", targets: ["HallpassCore"]),
        .library(name: "HallpassClient", targets: ["HallpassClient"]),
        .library(name: "HallpassTUI", targets: ["HallpassTUI"]),
        .library(name: "HallpassResource", targets: ["HallpassResource"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "4.1.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-nio-ssh.git", from: "0.15.1"),
        .package(url: "https://github.com/hummingbird-project/swift-websocket.git", from: "1.6.2"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        // RFC 6238 TOTP (HummingbirdOTP): the second factor (ARCHITECTURE.md §4.8).
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        // Outgoing HTTP on NIO, never following redirects (CIBA ping and push, the CLI, resource
        // servers): no URLSession, so no libcurl, and the binary links statically (issue 20).
        // HummingbirdTesting builds it already.
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        .systemLibrary(
            name: "CNCurses",
            providers: [.apt(["libncurses-dev"])]
        ),
        .systemLibrary(
            name: "CQRencode",
            providers: [.apt(["libqrencode-dev"])]
        ),
        .target(
            name: "HallpassCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HallpassPostgres",
            dependencies: [
                "HallpassCore",
                "HallpassStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HallpassStore",
            dependencies: ["HallpassCore"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HallpassSQLite",
            dependencies: [
                "HallpassCore",
                "HallpassStore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HallpassSettings",
            dependencies: [
                "HallpassCore",
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HallpassServer",
            dependencies: [
                "HallpassCore",
                "HallpassSettings",
                "HallpassStore",
                "CSodium",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "HummingbirdOTP", package: "hummingbird-auth"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "CHallpassPTY"),
        .target(name: "CHallpassRuntime", cSettings: [.define("HALLPASS_COMMIT", to: "\"\(buildCommit)\"")]),
        .target(
            name: "HallpassSSH",
            dependencies: [
                "HallpassCore",
                "CHallpassPTY",
                .product(name: "NIOSSH", package: "swift-nio-ssh"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HallpassTUI",
            dependencies: [
                "HallpassCore",
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HallpassTerminal",
            dependencies: ["CNCurses", "HallpassTUI"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HallpassClient",
            dependencies: [
                "HallpassCore",
                "CQRencode",
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HallpassResource",
            dependencies: [
                "HallpassCore",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
        // Examples/resource-server: a runnable API protected by HallpassResource, built with the rest.
        .executableTarget(
            name: "hallpass-resource-example",
            dependencies: [
                "HallpassCore",
                "HallpassResource",
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            path: "Examples/resource-server/Sources",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HallpassResourceTests",
            dependencies: [
                "HallpassCore",
                "HallpassResource",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "hallpass",
            dependencies: [
                "HallpassCore",
                "HallpassStore",
                "HallpassSQLite",
                "HallpassPostgres",
                "HallpassServer",
                "HallpassSettings",
                "HallpassSSH",
                "HallpassClient",
                "HallpassTUI",
                "HallpassTerminal",
                "HallpassResource",
                "CHallpassRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HallpassCoreTests",
            dependencies: [
                "HallpassCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HallpassClientTests",
            dependencies: ["HallpassCore", "HallpassClient"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HallpassTUITests",
            dependencies: ["HallpassCore", "HallpassTUI"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HallpassSSHTests",
            dependencies: ["HallpassCore", "HallpassServer", "HallpassSettings", "HallpassSSH"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HallpassStoreTests",
            dependencies: [
                "HallpassCore", "HallpassStore", "HallpassSQLite", "HallpassPostgres",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HallpassServerTests",
            dependencies: [
                "HallpassCore",
                "HallpassStore",
                "HallpassSQLite",
                "HallpassServer",
                "HallpassSettings",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)

// libFuzzer targets for the parsers that read what strangers send (scripts/fuzz.sh builds them
// with -sanitize=fuzzer,address into .build-fuzz). Only declared when asked for: libFuzzer
// supplies their main, so an ordinary build could not link them.
if ProcessInfo.processInfo.environment["HALLPASS_FUZZ"] != nil {
    package.targets.append(.executableTarget(
        name: "hallpass-fuzz",
        dependencies: ["HallpassCore", "HallpassTUI"],
        path: "Fuzz/Sources",
        swiftSettings: swiftSettings + [.unsafeFlags(["-parse-as-library"])]
    ))
}
