import FinchIO
import Foundation

/// One example: named fields in order.
public typealias Row = [DataValue.Field]

extension Array where Element == DataValue.Field {
    /// The value of a field, if the row has it.
    public subscript(field name: String) -> DataValue? { first { $0.name == name }?.value }
}

/// A list of rows with named columns, and where it came from.
public struct Dataset: Sendable {
    public var rows: [Row]
    /// The file (or operation) it came from, for messages.
    public var source: String
    /// Lines skipped while loading (`on_error: "skip"`, blank lines), with the first few line numbers.
    public var skipped = 0
    public var skippedLines: [Int] = []
    /// The file line of each row, when a JSONL loader made it (empty for datasets made otherwise),
    /// so a message about row i can name its line.
    public var lines: [Int] = []

    public init(rows: [Row], source: String) {
        self.rows = rows
        self.source = source
    }

    public var count: Int { rows.count }

    /// Column names in order of first appearance.
    public var columns: [String] {
        var seen = Set<String>(), out: [String] = []
        for row in rows { for f in row where seen.insert(f.name).inserted { out.append(f.name) } }
        return out
    }

    /// Every row's value of a column (null where a row lacks it); an error if no row has it.
    public func column(_ name: String) throws -> [DataValue] {
        guard columns.contains(name) else {
            throw DataError("\(source) has no column \"\(name)\" (columns: \(columns.joined(separator: ", ")))")
        }
        return rows.map { $0[field: name] ?? .null }
    }

    /// The rows from `start` (inclusive) to `end` (exclusive).
    public func slice(_ start: Int, _ end: Int) -> Dataset {
        let from = min(max(0, start), count)
        return derived(Array(rows[from..<min(count, max(from, end))]))
    }
    public func take(_ n: Int) -> Dataset { slice(0, n) }
    public func skip(_ n: Int) -> Dataset { slice(n, count) }

    /// The same rows in a random order that depends only on `seed` (Fisher–Yates driven by SplitMix64).
    public func shuffled(seed: UInt64) -> Dataset {
        var order = Array(rows.indices)
        var rng = SplitMix64(seed: seed)
        if order.count > 1 {
            for i in stride(from: order.count - 1, to: 0, by: -1) {
                order.swapAt(i, Int(rng.next() % UInt64(i + 1)))
            }
        }
        return derived(order.map { rows[$0] })
    }

    /// (train, test): the rows shuffled with `seed`, then the last round(test · count) of them are the test set.
    /// The same data and seed always give the same split; a fraction of 0 or 1 leaves one side empty.
    public func split(test fraction: Double, seed: UInt64) throws -> (train: Dataset, test: Dataset) {
        guard fraction >= 0, fraction <= 1 else { throw DataError("test must be a fraction from 0 to 1, got \(fraction)") }
        let shuffled = shuffled(seed: seed)
        let testCount = Int((Double(count) * fraction).rounded())
        return (shuffled.slice(0, count - testCount), shuffled.slice(count - testCount, count))
    }

    /// The rows of both, this one's first.
    public func concat(_ other: Dataset) -> Dataset { derived(rows + other.rows) }

    /// Only the named columns, in that order; an error for a column no row has.
    public func select(_ names: [String]) throws -> Dataset {
        let known = Set(columns)
        if let missing = names.first(where: { !known.contains($0) }) {
            throw DataError("\(source) has no column \"\(missing)\" (columns: \(columns.joined(separator: ", ")))")
        }
        return derived(rows.map { row in names.compactMap { n in row[field: n].map { .init(n, $0) } } })
    }

    /// Columns renamed by `mapping` (old name -> new name).
    public func renamed(_ mapping: [String: String]) throws -> Dataset {
        let known = Set(columns)
        if let missing = mapping.keys.sorted().first(where: { !known.contains($0) }) {
            throw DataError("\(source) has no column \"\(missing)\" to rename (columns: \(columns.joined(separator: ", ")))")
        }
        return derived(rows.map { row in row.map { .init(mapping[$0.name] ?? $0.name, $0.value) } })
    }

    /// The rows without repeats (the first of equal rows is kept; `by` compares only those columns).
    public func deduplicated(by names: [String]? = nil) -> Dataset {
        var seen = Set<[DataValue]>()
        return derived(rows.filter { row in
            let key = names.map { $0.map { row[field: $0] ?? .null } } ?? row.flatMap { [DataValue.string($0.name), $0.value] }
            return seen.insert(key).inserted
        })
    }

    /// Writes one JSON object per line, atomically.
    public func writeJSONL(_ path: String) throws {
        var text = ""
        for row in rows {
            JSONWriter.append(.object(row), to: &text)
            text += "\n"
        }
        try AtomicFile.write(text, to: path)
    }

    /// A dataset of other rows that remembers this one's source.
    public func derived(_ rows: [Row]) -> Dataset { Dataset(rows: rows, source: source) }
}

/// SplitMix64: a small, well-mixed generator whose whole state is the seed; the split depends on nothing else.
public struct SplitMix64: Sendable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
