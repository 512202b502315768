import FinchData
import FinchLang
import FinchLib
import FinchModel
import FinchNotebook
import FinchText
import Foundation

/// A property a fuzz input broke that is not a crash (an encode/decode round trip that lost text):
/// the libFuzzer driver aborts on it, the regression tests fail with it.
public struct FuzzFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// What Finch is fuzzed through: each case takes arbitrary bytes the way a user's file or
/// program reaches Finch. Errors are the expected outcome of bad input; a Swift runtime trap,
/// a sanitizer report or a `FuzzFailure` is a finding.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// Lexer, parser, resolver and interpreter with every binding, under a time budget.
    case lang
    /// GGUF: header, metadata, tensor table, then the model and tokenizer built from it.
    case gguf
    /// safetensors: header and every tensor read.
    case safetensors
    /// A Hugging Face config.json read by the family its model_type names (nothing is built from it).
    case config
    /// tokenizer.json loaded, then used to encode and decode.
    case tokenizer
    /// A byte-level BPE tokenizer encoding arbitrary text: decode(encode(text)) must give the text back.
    case encode
    /// Dataset loaders.
    case jsonl, json, csv
    /// Markdown notebooks: parsed, and written back unchanged when no output changes.
    case notebook
    /// Chat templates: recognised, then rendered.
    case chat

    /// Runs one input; throws `FuzzFailure` when a property that must hold did not.
    public func run(_ data: Data) throws {
        switch self {
        case .lang: try LangHarness.shared.run(data)
        case .gguf: FileHarness.gguf(data)
        case .safetensors: FileHarness.safetensors(data)
        case .config: FileHarness.config(data)
        case .tokenizer: FileHarness.tokenizerJSON(data)
        case .encode: try TextHarness.encode(data)
        case .jsonl: FileHarness.dataset(data, .jsonl)
        case .json: FileHarness.dataset(data, .json)
        case .csv: FileHarness.dataset(data, .csv)
        case .notebook: try FileHarness.notebook(data)
        case .chat: TextHarness.chat(data)
        }
    }
}
