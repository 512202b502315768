import Foundation

/// The file formats `Dataset.load` reads.
public enum DataFormat: String, Sendable, CaseIterable {
    case jsonl, json, csv, text

    /// The format a file name suggests (.jsonl, .json, .csv; anything else is text).
    public static func guess(_ path: String) -> DataFormat {
        switch (path as NSString).pathExtension.lowercased() {
        case "jsonl", "ndjson": return .jsonl
        case "json": return .json
        case "csv": return .csv
        default: return .text
        }
    }
}

/// What to do with a line that cannot be read.
public enum OnError: String, Sendable {
    case raise, skip
}

extension Dataset {
    /// Reads a dataset: JSONL (one object per line), JSON (an array of objects), CSV (a header row,
    /// quoted fields) or text (one example per line in a "text" column, or the whole file as one row).
    /// The file is memory-mapped and parsed in place. A byte-order mark and CRLF line ends are accepted.
    public static func load(_ path: String, format: DataFormat? = nil, onError: OnError = .raise, wholeText: Bool = false) throws -> Dataset {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw DataError("\(path): cannot read the file (\(error.localizedDescription))")
        }
        return try load(data: data, path: path, format: format ?? DataFormat.guess(path), onError: onError, wholeText: wholeText)
    }

    /// Reads a dataset from bytes already in memory; `path` names them in errors.
    public static func load(data: Data, path: String, format: DataFormat, onError: OnError = .raise, wholeText: Bool = false) throws -> Dataset {
        try data.withUnsafeBytes { raw in
            let all = raw.bindMemory(to: UInt8.self)
            // A UTF-8 byte-order mark is not part of the data.
            let bom = all.count >= 3 && all[0] == 0xEF && all[1] == 0xBB && all[2] == 0xBF ? 3 : 0
            let bytes = UnsafeBufferPointer(rebasing: all[bom...])
            switch format {
            case .jsonl: return try loadJSONL(bytes, path: path, onError: onError)
            case .json: return try loadJSON(bytes, path: path)
            case .csv: return try CSVReader.load(bytes, path: path, onError: onError)
            case .text: return try loadText(bytes, path: path, whole: wholeText)
            }
        }
    }

    /// Lines of a buffer: (1-based number, start, end without the line break or a CR before it).
    static func lines(_ b: UnsafeBufferPointer<UInt8>, _ body: (Int, Int, Int) throws -> Void) rethrows {
        var start = 0, number = 1
        while start < b.count {
            var end = start
            while end < b.count, b[end] != 0x0A { end += 1 }
            let next = end + 1
            if end > start, b[end - 1] == 0x0D { end -= 1 }
            try body(number, start, end)
            start = next
            number += 1
        }
    }

    static func loadJSONL(_ b: UnsafeBufferPointer<UInt8>, path: String, onError: OnError) throws -> Dataset {
        var rows: [Row] = [], rowLines: [Int] = []
        var ds = Dataset(rows: [], source: path)
        try lines(b) { number, start, end in
            var parser = JSONParser(b, from: start, to: end)
            parser.skipSpace()
            if parser.i == end { return }  // a blank line holds no example
            do {
                let v = try parser.parseDocument()
                guard case .object(let fields) = v else {
                    throw JSONParser.Failure(offset: start, message: "each line must be a JSON object, this one is \(v.typeName)")
                }
                rows.append(fields)
                rowLines.append(number)
            } catch let f as JSONParser.Failure {
                guard onError == .skip else {
                    throw DataError("\(path):\(number):\(f.offset - start + 1): \(f.message): \(snippet(b, start, end, at: f.offset))")
                }
                ds.skipped += 1
                if ds.skippedLines.count < 5 { ds.skippedLines.append(number) }
            }
        }
        ds.rows = rows
        ds.lines = rowLines
        return ds
    }

    static func loadJSON(_ b: UnsafeBufferPointer<UInt8>, path: String) throws -> Dataset {
        var parser = JSONParser(b)
        let v: DataValue
        do { v = try parser.parseDocument() } catch let f as JSONParser.Failure {
            let (line, column, start, end) = position(b, f.offset)
            throw DataError("\(path):\(line):\(column): \(f.message): \(snippet(b, start, end, at: f.offset))")
        }
        guard case .array(let items) = v else { throw DataError("\(path): a JSON dataset must be an array of objects, this is \(v.typeName)") }
        var rows: [Row] = []
        for (k, item) in items.enumerated() {
            guard case .object(let fields) = item else { throw DataError("\(path): item \(k) of the array is \(item.typeName), not an object") }
            rows.append(fields)
        }
        return Dataset(rows: rows, source: path)
    }

    static func loadText(_ b: UnsafeBufferPointer<UInt8>, path: String, whole: Bool) throws -> Dataset {
        func text(_ start: Int, _ end: Int, line: Int) throws -> String {
            guard let s = String(validating: UnsafeBufferPointer(rebasing: b[start..<end]), as: UTF8.self) else {
                throw DataError("\(path):\(line): the text is not valid UTF-8")
            }
            return s
        }
        if whole {
            guard let s = String(validating: b, as: UTF8.self) else {
                // Find the line to name: the check of each line throws at the first bad one.
                try lines(b) { n, s, e in _ = try text(s, e, line: n) }
                throw DataError("\(path): the text is not valid UTF-8")
            }
            return Dataset(rows: s.isEmpty ? [] : [[.init("text", .string(s))]], source: path)
        }
        var ds = Dataset(rows: [], source: path)
        try lines(b) { n, s, e in
            if s == e { return }  // an empty line holds no example (as in JSONL)
            ds.rows.append([.init("text", .string(try text(s, e, line: n)))])
        }
        return ds
    }

    /// (line, column, line start, line end) of a byte offset.
    static func position(_ b: UnsafeBufferPointer<UInt8>, _ offset: Int) -> (Int, Int, Int, Int) {
        var line = 1, start = 0
        for k in 0..<min(offset, b.count) where b[k] == 0x0A { line += 1; start = k + 1 }
        var end = start
        while end < b.count, b[end] != 0x0A { end += 1 }
        return (line, offset - start + 1, start, end)
    }

    /// Up to 60 characters of the line around `offset`, to show what was wrong.
    static func snippet(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, at offset: Int) -> String {
        let from = max(start, min(offset, end) - 30), to = min(end, max(offset, start) + 30)
        let text = String(decoding: UnsafeBufferPointer(rebasing: b[from..<to]), as: UTF8.self)
        return (from > start ? "…" : "") + text + (to < end ? "…" : "")
    }
}

/// CSV as RFC 4180 writes it: a header row, fields separated by commas, quoted fields
/// that may hold commas, doubled quotes and line breaks. Every value is a string.
enum CSVReader {
    static func load(_ b: UnsafeBufferPointer<UInt8>, path: String, onError: OnError) throws -> Dataset {
        var records: [(line: Int, fields: [String])] = []
        var i = 0, line = 1
        while i < b.count {
            let recordLine = line
            var fields: [String] = []
            var field: [UInt8] = []
            var quoted = false, afterQuote = false
            recordLoop: while true {
                if i >= b.count {
                    if quoted { throw DataError("\(path):\(recordLine): a quoted field is not closed") }
                    break
                }
                let c = b[i]
                if quoted {
                    if c == 0x22 {
                        if i + 1 < b.count, b[i + 1] == 0x22 { field.append(0x22); i += 2; continue }
                        quoted = false; afterQuote = true; i += 1; continue
                    }
                    if c == 0x0A { line += 1 }
                    field.append(c); i += 1; continue
                }
                switch c {
                case 0x22 where field.isEmpty && !afterQuote: quoted = true; i += 1
                case 0x2C:
                    fields.append(try text(field, path, recordLine)); field = []; afterQuote = false; i += 1
                case 0x0A:
                    i += 1; line += 1; break recordLoop
                case 0x0D where i + 1 < b.count && b[i + 1] == 0x0A:
                    i += 1
                default:
                    if afterQuote { throw DataError("\(path):\(recordLine): text after a closing quote") }
                    field.append(c); i += 1
                }
            }
            fields.append(try text(field, path, recordLine))
            if fields == [""] { continue }  // a blank line
            records.append((recordLine, fields))
        }
        guard let header = records.first else { return Dataset(rows: [], source: path) }
        var ds = Dataset(rows: [], source: path)
        for record in records.dropFirst() {
            guard record.fields.count == header.fields.count else {
                guard onError == .skip else {
                    throw DataError("\(path):\(record.line): \(record.fields.count) fields, but the header has \(header.fields.count)")
                }
                ds.skipped += 1
                if ds.skippedLines.count < 5 { ds.skippedLines.append(record.line) }
                continue
            }
            ds.rows.append(zip(header.fields, record.fields).map { .init($0, .string($1)) })
        }
        return ds
    }

    static func text(_ bytes: [UInt8], _ path: String, _ line: Int) throws -> String {
        guard let s = String(validating: bytes, as: UTF8.self) else { throw DataError("\(path):\(line): a field is not valid UTF-8") }
        return s
    }
}
