@preconcurrency import COpenBLAS
#if canImport(Glibc)
import Glibc
#endif

/// Which of OpenBLAS's kernel sets runs Finch's products. OpenBLAS picks one per CPU model, and
/// kernel sets round differently: a lesson's greedy answers, recorded on a Skylake-class CPU, came
/// out as other words on a Cooper Lake-class one (same AVX-512 instructions, other blocking). So
/// Finch asks for one set per instruction level — SkylakeX wherever AVX-512F exists, Haswell where
/// AVX2 does — and the same notebook replays to the same text on every such machine, at the same
/// speed (measured: 202 GFLOP/s either way on this project's machine). OPENBLAS_CORETYPE, when set,
/// is left as the user chose.
public enum BLASKernels {
    /// The kernel set Finch asked OpenBLAS for, or nil when it left OpenBLAS's own choice.
    public private(set) nonisolated(unsafe) static var pinned: String?

    /// The kernel set OpenBLAS is running ("Haswell", "SkylakeX", ...): what a notebook's recorded
    /// outputs depend on.
    public static var running: String {
        _ = Threads.count  // pins the kernels first, as any product would
        return String(cString: openblas_get_corename())
    }

    static func pin() {
        guard getenv("OPENBLAS_CORETYPE") == nil else { return }
        let name: String
        switch finch_cpu_vector_level() {
        case 2: name = "SkylakeX"
        case 1: name = "Haswell"
        default: return
        }
        if finch_openblas_use_core(name) != 0 { pinned = name }
    }
}
