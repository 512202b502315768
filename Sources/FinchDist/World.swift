import CMPI
import Foundation
import Synchronization

/// The processes training together: one when Finch runs alone, N under `mpirun -np N`.
/// With one process every collective returns its input unchanged and touches no MPI;
/// under mpirun they are Open MPI's collectives over MPI_COMM_WORLD.
public final class World: @unchecked Sendable {
    /// This process's place, 0..<size; rank 0 alone prints and writes.
    public let rank: Int
    /// How many processes take part.
    public let size: Int
    /// Whether MPI was started (under mpirun), so collectives go over it.
    public var isDistributed: Bool { size > 1 }
    /// Whether this process writes checkpoints, logs, plots and output: rank 0 does.
    public var isLeader: Bool { rank == 0 }
    let failureLock = Mutex<String?>(nil)
    /// Where small gradients are packed for one all-reduce: made once (16 MB of fresh pages every
    /// step would fault them in again each time), only in a world that sums gradients.
    lazy var bucket = UnsafeMutablePointer<Float>.allocate(capacity: World.bucketFloats)

    private init(rank: Int, size: Int) {
        self.rank = rank
        self.size = size
    }

    /// The world of this process, made on first use: MPI is started only when mpirun (or
    /// another PMIx launcher) started us, so a plain `finch` never touches MPI.
    public static let current: World = {
        guard launchedByMPI else { return World(rank: 0, size: 1) }
        var provided: Int32 = 0
        // One thread calls MPI (the one running the interpreter); Finch's worker threads never do.
        MPI_Init_thread(nil, nil, finch_mpi_thread_funneled(), &provided)
        var rank: Int32 = 0, size: Int32 = 1
        MPI_Comm_rank(finch_mpi_comm_world(), &rank)
        MPI_Comm_size(finch_mpi_comm_world(), &size)
        return World(rank: Int(rank), size: Int(size))
    }()

    /// Whether the environment says an MPI launcher started this process.
    public static var launchedByMPI: Bool {
        let env = ProcessInfo.processInfo.environment
        return env["OMPI_COMM_WORLD_SIZE"] != nil || env["PMIX_RANK"] != nil
    }

    /// Processes of this world on this machine (mpirun says; 1 when alone), for sharing its cores.
    public static var localSize: Int {
        Int(ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"] ?? "") ?? 1
    }

    /// Ends MPI cleanly (every rank calls it once, at exit); nothing when alone.
    public func finalize() {
        guard Self.launchedByMPI else { return }
        var done: Int32 = 0
        MPI_Finalized(&done)
        if done == 0 { MPI_Finalize() }
    }

    // MARK: Collectives

    /// Largest count one MPI call takes (its counts are Int32).
    static let chunk = 1 << 30

    /// Sums `count` floats at `buffer` over every rank, in place.
    public func sum(_ buffer: UnsafeMutablePointer<Float>, count: Int) {
        guard isDistributed else { return }
        var done = 0
        while done < count {
            let n = min(Self.chunk, count - done)
            MPI_Allreduce(finch_mpi_in_place(), buffer + done, Int32(n), finch_mpi_float(), finch_mpi_sum(), finch_mpi_comm_world())
            done += n
        }
    }

    /// The sums over every rank of `values` (element by element).
    public func sum(_ values: [Double]) -> [Double] {
        guard isDistributed, !values.isEmpty else { return values }
        var v = values
        v.withUnsafeMutableBufferPointer { p in
            _ = MPI_Allreduce(finch_mpi_in_place(), p.baseAddress, Int32(p.count), finch_mpi_double(), finch_mpi_sum(), finch_mpi_comm_world())
        }
        return v
    }

    /// The largest of `value` over every rank (how ranks agree on a flag any of them raised).
    public func max(_ value: Int) -> Int {
        guard isDistributed else { return value }
        var v = Int64(value)
        MPI_Allreduce(finch_mpi_in_place(), &v, 1, finch_mpi_int64(), finch_mpi_max(), finch_mpi_comm_world())
        return Int(v)
    }

    /// Every rank's `values`, in rank order (each rank gives the same count).
    public func gather(_ values: [UInt64]) -> [[UInt64]] {
        guard isDistributed else { return [values] }
        var out = [UInt64](repeating: 0, count: values.count * size)
        values.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                _ = MPI_Allgather(src.baseAddress, Int32(src.count), finch_mpi_uint64(), dst.baseAddress, Int32(src.count), finch_mpi_uint64(), finch_mpi_comm_world())
            }
        }
        return (0..<size).map { r in Array(out[r * values.count..<(r + 1) * values.count]) }
    }

    /// Every rank's bytes, in rank order (counts may differ).
    public func gather(bytes: [UInt8]) -> [[UInt8]] {
        guard isDistributed else { return [bytes] }
        let counts = gather([UInt64(bytes.count)]).map { Int($0[0]) }
        let total = counts.reduce(0, +)
        precondition(total < Int(Int32.max), "gathering \(total) bytes: more than one MPI call carries")
        var displs: [Int32] = [], at = 0
        for c in counts { displs.append(Int32(at)); at += c }
        var recv = [UInt8](repeating: 0, count: total)
        let counts32 = counts.map { Int32($0) }
        bytes.withUnsafeBufferPointer { src in
            recv.withUnsafeMutableBufferPointer { dst in
                _ = MPI_Allgatherv(src.baseAddress, Int32(src.count), finch_mpi_byte(), dst.baseAddress, counts32, displs, finch_mpi_byte(), finch_mpi_comm_world())
            }
        }
        return (0..<size).map { r in Array(recv[Int(displs[r])..<Int(displs[r]) + counts[r]]) }
    }

    /// Each rank's results, encoded as JSON, gathered and decoded in rank order: how an
    /// evaluation split across ranks comes back whole on every rank.
    public func gather<T: Codable>(_ value: T) throws -> [T] {
        guard isDistributed else { return [value] }
        let mine = try JSONEncoder().encode(value)
        return try gather(bytes: [UInt8](mine)).map { try JSONDecoder().decode(T.self, from: Data($0)) }
    }

    /// The part of 0..<count this rank takes when work is split: contiguous blocks in rank order,
    /// so gathering the blocks in rank order gives back the whole in its own order.
    public func share(of count: Int) -> Range<Int> {
        (count * rank / size)..<(count * (rank + 1) / size)
    }
}
