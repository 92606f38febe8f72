// swift-tools-version:6.0
// stemrun: distributed batch processing of 4D-STEM data on MPI.
// The pipeline reads from the folder names: Readers -> Registration -> Matching / Factorization -> Distributed jobs.
import Foundation
import PackageDescription

/// The hot kernels (registration, reader conversions) are compiled for the x86-64 level that has AVX2 and FMA
/// (`-target-cpu haswell`: eight-lane SIMD) when the build machine has them, as HPC codes built on their own
/// nodes do; `STEMRUN_TARGET_CPU=generic` (or another LLVM CPU name) overrides it, for example to build once
/// for older nodes of a cluster (then `rm -rf .build`: the package manager caches the manifest). With AVX2 the
/// kernels also use fused multiply-adds (`STEMRUN_FMA`), which round once instead of twice.
let kernelSettings: [SwiftSetting] = {
    if let cpu = ProcessInfo.processInfo.environment["STEMRUN_TARGET_CPU"] {
        // STEMRUN_FMA: the kernels may use fused multiply-adds (the CPU named must have FMA).
        let fma = ProcessInfo.processInfo.environment["STEMRUN_FMA"] == "1" ? [SwiftSetting.define("STEMRUN_FMA")] : []
        return cpu.isEmpty || cpu == "generic" ? [] : [.unsafeFlags(["-target-cpu", cpu])] + fma
    }
    #if arch(x86_64) && os(Linux)
    if let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
       let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) {
        let flags = Set(line.split(separator: " ").map(String.init))
        if ["avx", "avx2", "fma", "bmi1", "bmi2", "f16c", "movbe", "abm"].allSatisfy(flags.contains) { // abm: lzcnt
            return [.unsafeFlags(["-target-cpu", "haswell"]), .define("STEMRUN_FMA")]
        }
    }
    #endif
    return []
}()

let package = Package(
    name: "stemrun",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "stemrun", targets: ["stemrun"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        // System libraries from Debian (see docs/architecture.md).
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi",
                       providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
        .systemLibrary(name: "CHDF5", path: "Sources/CHDF5", pkgConfig: "hdf5-openmpi",
                       providers: [.apt(["libhdf5-openmpi-dev"])]),
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"])]),
        // The C bridge: macros and handles of OpenMPI and parallel HDF5 that Swift cannot import.
        .target(name: "MPIShim", dependencies: ["CMPI", "CHDF5", "CBLAS"]),

        // MPI-free science and I/O targets.
        .target(name: "STEMCore"),
        .target(name: "HDF5", dependencies: ["MPIShim", "CHDF5", "STEMCore"]),
        .target(name: "Imaging", dependencies: ["CPNG", "STEMCore"]),
        .target(name: "Readers", dependencies: ["STEMCore", "HDF5", "CPNG"], swiftSettings: kernelSettings),
        .target(name: "Crystallography", dependencies: ["STEMCore"]),
        .target(name: "Simulation", dependencies: ["STEMCore", "Crystallography"]),
        // Dynamic exclusivity checks off in the release build of the per-pattern kernels: every access to a
        // registrar's workspace (a class property) otherwise costs a runtime call (about 6 % of the 128-px
        // pattern's instructions); the debug build keeps them.
        .target(name: "Registration", dependencies: ["STEMCore"],
                swiftSettings: kernelSettings + [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]),
        .target(name: "Matching", dependencies: ["STEMCore", "Crystallography"]),
        .target(name: "Factorization", dependencies: ["STEMCore", "CBLAS"]),
        .target(name: "Operando", dependencies: ["STEMCore"]),
        .target(name: "VirtualImaging", dependencies: ["STEMCore"]),

        // Everything that knows about ranks.
        .target(name: "Distributed", dependencies: [
            "MPIShim", "CMPI", "CHDF5", "STEMCore", "HDF5", "Readers", "Imaging", "Crystallography",
            "Simulation", "Registration", "Matching", "Factorization", "Operando", "VirtualImaging",
        ]),
        // The command line.
        .executableTarget(name: "stemrun", dependencies: [
            "Distributed", "STEMCore", "HDF5", "Readers", "Imaging", "Simulation", "Crystallography",
            "Registration", "Matching", "Factorization", "Operando", "VirtualImaging",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "TOMLKit", package: "TOMLKit"),
        ]),

        .testTarget(name: "STEMCoreTests", dependencies: ["STEMCore"]),
        .testTarget(name: "HDF5Tests", dependencies: ["HDF5", "Readers", "STEMCore"]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging"]),
        .testTarget(name: "ReadersTests", dependencies: ["Readers", "HDF5", "STEMCore"]),
        .testTarget(name: "CrystallographyTests", dependencies: ["Crystallography"]),
        .testTarget(name: "SimulationTests", dependencies: ["Simulation", "Crystallography", "STEMCore"]),
        .testTarget(name: "RegistrationTests", dependencies: ["Registration", "STEMCore"]),
        .testTarget(name: "MatchingTests", dependencies: ["Matching", "Crystallography", "STEMCore"]),
        .testTarget(name: "FactorizationTests", dependencies: ["Factorization", "STEMCore"], exclude: ["Resources"]),
        .testTarget(name: "OperandoTests", dependencies: ["Operando", "STEMCore"]),
        .testTarget(name: "VirtualImagingTests", dependencies: ["VirtualImaging", "STEMCore"]),
        .testTarget(name: "DistributedTests", dependencies: ["Distributed", "STEMCore", "HDF5", "Registration"]),
    ],
    swiftLanguageModes: [.v5]
)
