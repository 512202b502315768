import FinchIO
import Foundation
import Testing

/// Two "machines" on this one: network namespaces joined by a veth pair, each with its own
/// address and hostname, and Open MPI starting the second rank through its rsh agent, as it
/// would through ssh on a real host. The ranks speak over the TCP transport only, across the
/// veth, and train exactly as one process with their global batch does.
@Suite(.serialized) struct NamespaceTests {
    typealias H = DistHarness

    /// The namespaces, created for the test and always removed.
    struct Hosts {
        let a: String, b: String
        let addressA = "10.231.77.1", addressB = "10.231.77.2"

        init() throws {
            let tag = String(getpid() % 100_000)
            a = "finch-a\(tag)"; b = "finch-b\(tag)"
            let steps: [[String]] = [
                ["netns", "add", a], ["netns", "add", b],
                ["link", "add", "fv-a\(tag)", "type", "veth", "peer", "name", "fv-b\(tag)"],
                ["link", "set", "fv-a\(tag)", "netns", a], ["link", "set", "fv-b\(tag)", "netns", b],
                ["-n", a, "addr", "add", addressA + "/24", "dev", "fv-a\(tag)"], ["-n", b, "addr", "add", addressB + "/24", "dev", "fv-b\(tag)"],
                ["-n", a, "link", "set", "fv-a\(tag)", "up"], ["-n", b, "link", "set", "fv-b\(tag)", "up"],
                ["-n", a, "link", "set", "lo", "up"], ["-n", b, "link", "set", "lo", "up"],
            ]
            for s in steps {
                let r = try Spawn.output("/usr/sbin/ip", s)
                if r.status != 0 {
                    remove()
                    throw DistributedTestError("ip \(s.joined(separator: " ")) failed (the test needs root for network namespaces): \(r.text)")
                }
            }
        }

        func remove() {
            // Deleting a namespace deletes the veth end inside it, and with it the pair.
            _ = try? Spawn.output("/usr/sbin/ip", ["netns", "del", a])
            _ = try? Spawn.output("/usr/sbin/ip", ["netns", "del", b])
        }

        /// Open MPI's rsh agent: `agent HOST COMMAND...` runs the command in the namespace that
        /// holds HOST, under that host's own hostname, and logs what it was asked.
        func agent(in dir: String) throws -> String {
            let path = dir + "/agent.sh"
            try """
            #!/bin/sh
            echo "$@" >> "\(dir)/agent.log"
            host=$1; shift
            case "$host" in
              \(addressA)) ns=\(a); name=host-a ;;
              \(addressB)) ns=\(b); name=host-b ;;
              *) echo "agent: no host $host" >&2; exit 1 ;;
            esac
            exec /usr/sbin/ip netns exec "$ns" unshare --uts /bin/sh -c "hostname $name; $*"
            """.write(toFile: path, atomically: true, encoding: .utf8)
            chmod(path, 0o755)
            return path
        }
    }

    @Test func twoHostsOverTCPTrainAsOneProcess() throws {
        let dir = try H.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let reference = try H.run(H.script(lora: false, batch: 8, steps: 20, out: dir + "/one"), in: dir, name: "one.finch")
        #expect(reference.status == 0, "\(reference.text)")

        let hosts = try Hosts()
        defer { hosts.remove() }
        let agent = try hosts.agent(in: dir)
        let script = dir + "/two.finch"
        try H.script(lora: false, batch: 4, steps: 20, out: dir + "/two").write(toFile: script, atomically: true, encoding: .utf8)
        let mpirun = [
            "mpirun", "--allow-run-as-root", "-np", "2", "--host", "\(hosts.addressA):1,\(hosts.addressB):1",
            "--mca", "plm_rsh_agent", agent,
            // TCP between the ranks, on the veth's network only: no shared memory, no loopback.
            "--mca", "btl", "tcp,self", "--mca", "btl_tcp_if_include", "10.231.77.0/24", "--mca", "oob_tcp_if_include", "10.231.77.0/24",
            H.finch, "run", script,
        ].map { "'\($0)'" }.joined(separator: " ")
        let r = try Spawn.output("/usr/sbin/ip", ["netns", "exec", hosts.a, "unshare", "--uts", "/bin/sh", "-c", "hostname host-a; exec timeout 120 " + mpirun])
        #expect(r.status == 0, "\(r.text)")
        #expect(r.text.contains("20 steps of 8 examples (4 on each of 2 processes)"), "\(r.text)")
        let log = (try? String(contentsOfFile: dir + "/agent.log", encoding: .utf8)) ?? ""
        #expect(log.hasPrefix(hosts.addressB) && log.contains("orted"), "rank 1's daemon was started on the second host: \(log)")
        let d = H.difference(try H.checkpoint(dir + "/one/ckpt/checkpoint-20"), try H.checkpoint(dir + "/two/ckpt/checkpoint-20"))
        #expect(d.loss <= 1e-5 && d.weight <= 1e-5, "losses differ by \(d.loss), weights by \(d.weight)")
    }
}

struct DistributedTestError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
