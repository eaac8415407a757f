// swift-tools-version: 6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "tipwire",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tipwire", targets: ["tipwire"]),
        .executable(name: "tipwire-bench", targets: ["tipwire-bench"]),
        .library(name: "Postgres", targets: ["Postgres"]),
        .library(name: "Kafka", targets: ["Kafka"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        .package(url: "https://github.com/vapor/multipart-kit", from: "4.7.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.0.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        .target(
            name: "Postgres",
            dependencies: [
                "CLibPQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Kafka",
            dependencies: [
                "CRdKafka",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TipwireCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TipwireStore",
            dependencies: ["TipwireCore", "Postgres", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TipwirePipeline",
            dependencies: [
                "TipwireStore", "Kafka",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // The dashboard's and the scorecard's HTML: Mustache templates, wording in Vietnamese and English, SVG charts.
        .target(
            name: "TipwirePages",
            dependencies: ["TipwireStore", "TipwireCore", .product(name: "Mustache", package: "swift-mustache")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TipwireAPI",
            dependencies: [
                "TipwireStore", "TipwireCore", "TipwirePages",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "MultipartKit", package: "multipart-kit"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        // What tipwire's command-line programs share: option groups for the database, Kafka and logging.
        .target(
            name: "TipwireCommandLine",
            dependencies: [
                "TipwireStore", "Kafka",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Running a program to completion, for the benchmarks' reference tools and the tests' checkers.
        .target(
            name: "ChildProcesses",
            dependencies: [
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "tipwire",
            dependencies: [
                "TipwireAPI", "TipwirePipeline", "TipwireStore", "TipwireCore", "TipwireCommandLine", "Postgres", "Kafka",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        // Benchmarks and load tools, kept out of the production binary.
        .executableTarget(
            name: "tipwire-bench",
            dependencies: [
                "TipwireAPI", "TipwirePipeline", "TipwireStore", "TipwireCore", "TipwireCommandLine", "ChildProcesses", "Postgres", "Kafka",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        // Shared by the test targets: a schema per test in the test database, a private cluster, process spawning.
        .target(
            name: "TestSupport",
            dependencies: ["Postgres", "Kafka", "ChildProcesses", .product(name: "Logging", package: "swift-log")],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        // Seeded hostile input and a low-priority lane to run fuzz loops on, for the fuzz suites.
        .target(
            name: "Fuzzing",
            path: "Tests/Fuzzing",
            swiftSettings: swiftSettings
        ),
        // Holds Sources/ to the import rules of docs/architecture.md.
        .testTarget(
            name: "ArchitectureTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PostgresTests",
            dependencies: ["Postgres", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KafkaTests",
            dependencies: ["Kafka", "TestSupport", "ChildProcesses"],
            exclude: ["aiokafka_interop.py"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TipwireCoreTests",
            dependencies: ["TipwireCore", "Fuzzing"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TipwireTests",
            dependencies: [
                "TipwireAPI", "TipwirePages", "TipwirePipeline", "TipwireStore", "TipwireCore", "Postgres", "Kafka", "TestSupport", "Fuzzing",
                "ChildProcesses",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["check_events.py", "agency_client.py", "check_latency.py"],
            swiftSettings: swiftSettings
        ),
    ]
)
