import FinchFuzzing
import Foundation

// libFuzzer's entry points. Built only by scripts/fuzz.sh (FINCH_FUZZ=1 swift build
// -sanitize=fuzzer,address); the target is chosen by FINCH_FUZZ_TARGET.

nonisolated(unsafe) var target = FuzzTarget.lang

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>) -> CInt {
    let env = ProcessInfo.processInfo.environment
    guard let name = env["FINCH_FUZZ_TARGET"], let t = FuzzTarget(rawValue: name) else {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        FileHandle.standardError.write(Data("finch-fuzz: set FINCH_FUZZ_TARGET to one of: \(names)\n".utf8))
        exit(2)
    }
    target = t
    // Writing the dictionary or the seeds is a job of its own: do it and leave.
    if let path = env["FINCH_FUZZ_WRITE_DICT"] {
        do { try Data(FuzzDictionary.finch().utf8).write(to: URL(fileURLWithPath: path)) } catch {
            FileHandle.standardError.write(Data("finch-fuzz: \(error)\n".utf8)); exit(1)
        }
        exit(0)
    }
    if let dir = env["FINCH_FUZZ_WRITE_SEEDS"], let root = env["FINCH_FUZZ_ROOT"] {
        do { try FuzzSeeds.write(t, to: dir, root: root) } catch {
            FileHandle.standardError.write(Data("finch-fuzz: seeds of \(t): \(error)\n".utf8)); exit(1)
        }
        exit(0)
    }
    // Programs under fuzzing may save files into the directory the fuzzer runs in, nowhere else.
    LangHarness.writableDirectory = FileManager.default.currentDirectoryPath
    LangHarness.pressesCtrlC = true
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ bytes: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let data = bytes.map { Data(bytes: $0, count: size) } ?? Data()
    do { try target.run(data) } catch {
        FileHandle.standardError.write(Data("finch-fuzz: \(target): \(error)\n".utf8))
        abort()
    }
    return 0
}

// SwiftPM links an executable's entry point as `<target>_main`; this one hands control to
// libFuzzer's driver (libFuzzer's own `main` is left out by that).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

@_cdecl("finch_fuzz_main")
public func finchFuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var args = argv
    return LLVMFuzzerRunDriver(&count, &args, fuzzerTestOneInput)
}
