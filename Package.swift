// swift-tools-version:6.0
import PackageDescription

// Finch: a finetuning lab. Module layout and dependency direction follow docs/architecture.md.

// Kernels are compiled for the CPU that builds them (like -march=native): Finch
// is built from source on the machine that runs it, and on x86-64 the wider
// vectors (AVX2/AVX-512, FMA) are what let exp-heavy kernels such as silu and
// softmax keep up with memory. FINCH_PORTABLE=1 builds for baseline x86-64.
let nativeKernels: [SwiftSetting] = {
    #if arch(x86_64)
    if Context.environment["FINCH_PORTABLE"] == nil { return [.unsafeFlags(["-target-cpu", "native"])] }
    #endif
    return []
}()

let package = Package(
    name: "Finch",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "finch", targets: ["finch"]),
        .library(name: "FinchTensor", targets: ["FinchTensor"]),
        .library(name: "FinchPlot", targets: ["FinchPlot"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
    ],
    targets: [
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS"),
        .systemLibrary(name: "CEditLine", path: "Sources/CEditLine"),
        .systemLibrary(name: "CZMQ", path: "Sources/CZMQ"),
        // Open MPI's headers live under its own prefix; its pkg-config file says where.
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
        .target(
            name: "CGnuplot",
            path: "Sources/CGnuplot",
            cxxSettings: [.unsafeFlags(["-std=c++17", "-O2"])],
            linkerSettings: [
                .linkedLibrary("boost_iostreams"),
                .linkedLibrary("boost_filesystem"),
                .linkedLibrary("boost_system"),
                .linkedLibrary("stdc++"),
            ]
        ),
        // C for instructions Swift cannot name (VNNI's and AVX2's byte dot products), chosen at run
        // time; no contraction into fused multiply-adds, so its float sums round as Swift's do.
        .target(name: "CKernels", path: "Sources/CKernels", cSettings: [.unsafeFlags(["-O3", "-ffp-contract=off", "-fno-math-errno"])]),
        .target(name: "FinchTensor", dependencies: ["COpenBLAS", "CKernels"], swiftSettings: nativeKernels),
        .target(name: "FinchPlot", dependencies: ["CGnuplot", "FinchIO"]),
        .target(name: "FinchIO"),
        .target(name: "FinchText", dependencies: ["FinchIO"]),
        .target(name: "FinchModel", dependencies: ["FinchTensor", "FinchText", "FinchIO"]),
        .target(name: "FinchData", dependencies: ["FinchText", "FinchIO"]),
        // Data-parallel training's collectives (Open MPI); with one process they touch no MPI.
        .target(name: "FinchDist", dependencies: ["FinchTensor", "FinchIO", "CMPI"]),
        .target(name: "FinchTrain", dependencies: ["FinchModel", "FinchData", "FinchTensor", "FinchIO", "FinchDist", "CKernels"]),
        // The interpreter's hot path reads and writes its own state on every step;
        // dynamic exclusivity checks on those accesses cost more than the work.
        .target(name: "FinchLang", swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"])]),
        // The OpenAI-compatible server: HTTP on SwiftNIO, generations interleaved a token at a time.
        .target(
            name: "FinchServe",
            dependencies: [
                "FinchModel", "FinchText", "FinchData",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: [.swiftLanguageMode(.v5)]  // NIO's handlers predate strict Sendable checking
        ),
        .target(name: "FinchLib", dependencies: ["FinchLang", "FinchTensor", "FinchText", "FinchModel", "FinchData", "FinchTrain", "FinchPlot", "FinchIO", "FinchServe", "FinchDist"]),
        .target(name: "FinchNotebook", dependencies: ["FinchLang", "FinchIO"]),
        // What fuzzing runs (one case per input kind), shared by the libFuzzer driver and the crash-regression tests.
        .target(name: "FinchFuzzing", dependencies: ["FinchLib", "FinchLang", "FinchNotebook", "FinchModel", "FinchText", "FinchData", "FinchTensor", "FinchIO"]),
        .target(name: "FinchREPL", dependencies: ["FinchLib", "FinchLang", "FinchNotebook", "FinchIO", "CEditLine"]),
        // The Jupyter kernel: the messaging protocol on libzmq, messages signed with swift-crypto's HMAC.
        .target(name: "FinchKernel", dependencies: ["FinchLib", "FinchLang", "CZMQ", .product(name: "Crypto", package: "swift-crypto")]),
        .executableTarget(
            name: "finch",
            dependencies: [
                "FinchTensor", "FinchPlot", "FinchLang", "FinchLib", "FinchNotebook", "FinchREPL", "FinchText", "FinchModel", "FinchData", "FinchTrain", "FinchIO", "FinchServe", "FinchKernel", "FinchDist", "COpenBLAS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "FinchTensorTests", dependencies: ["FinchTensor", "CKernels"]),
        .testTarget(name: "FinchPlotTests", dependencies: ["FinchPlot"]),
        .testTarget(name: "FinchModelTests", dependencies: ["FinchModel", "FinchText", "CKernels"], exclude: ["Fixtures"]),
        .testTarget(name: "FinchTextTests", dependencies: ["FinchText", "FinchData"], exclude: ["Fixtures"]),  // read at run time via #filePath
        .testTarget(name: "FinchDataTests", dependencies: ["FinchData"]),
        .testTarget(name: "FinchTrainTests", dependencies: ["FinchTrain", "FinchTensor", "FinchModel", "FinchData", "FinchText", "FinchIO"]),
        .testTarget(name: "FinchLangTests", dependencies: ["FinchLang"], exclude: ["cases"]),  // read at run time via #filePath
        .testTarget(name: "FinchLibTests", dependencies: ["FinchLib", "FinchLang", "FinchTensor"]),
        .testTarget(name: "FinchNotebookTests", dependencies: ["FinchNotebook", "FinchLib", "FinchLang", "FinchIO"]),
        .testTarget(name: "FinchFuzzingTests", dependencies: ["FinchFuzzing"], exclude: ["crashes"]),  // read at run time via #filePath
        .testTarget(name: "FinchServeTests", dependencies: ["FinchServe", "FinchModel", "FinchText", "FinchTensor", "FinchIO", "FinchLib", "FinchLang"],
                    exclude: ["openai_client.py"]),  // run by the test with the openai package
        .testTarget(name: "FinchREPLTests", dependencies: ["FinchREPL", "FinchLib", "FinchLang", "FinchNotebook"]),
        .testTarget(name: "FinchDistTests", dependencies: ["FinchDist", "FinchTensor", "FinchModel", "FinchIO"]),
        .testTarget(name: "FinchKernelTests", dependencies: ["FinchKernel", "FinchNotebook", "FinchTensor", "FinchIO"],
                    exclude: ["kernel_client.py", "run_notebooks.py"]),  // run by the tests with jupyter_client and nbclient
    ],
    swiftLanguageModes: [.v6],
    cxxLanguageStandard: .cxx17
)

// The libFuzzer driver exists only in fuzzing builds (scripts/fuzz.sh): libFuzzer supplies its
// main, which no ordinary build could link.
if Context.environment["FINCH_FUZZ"] != nil {
    package.targets.append(.executableTarget(
        name: "finch-fuzz", dependencies: ["FinchFuzzing"], path: "Fuzz/finch-fuzz",
        swiftSettings: [.unsafeFlags(["-parse-as-library"])]
    ))
}
