import FinchIO
import FinchText
import Foundation

/// An Ollama Modelfile for a GGUF export: FROM the file, the chat template in Ollama's Go
/// template language, the stop tokens, and the sampling parameters.
public enum OllamaModelfile {
    /// The Modelfile's text; `template` is false when the chat template is not one of the styles
    /// translated here (ChatML, Llama 3, Gemma), and the Modelfile then has no TEMPLATE.
    public static func text(gguf fileName: String, tokenizer: Tokenizer?, temperature: Double = 0.7) -> (text: String, template: Bool) {
        var lines = ["# Made by Finch for Ollama: ollama create NAME -f Modelfile", "FROM ./\(fileName)"]
        let source = tokenizer?.chatTemplate ?? ""
        var template: String?
        if source.contains("<|im_start|>") {
            template = """
            {{- if .System }}<|im_start|>system
            {{ .System }}<|im_end|>
            {{ end }}{{- range .Messages }}<|im_start|>{{ .Role }}
            {{ .Content }}<|im_end|>
            {{ end }}<|im_start|>assistant

            """
        } else if source.contains("<|start_header_id|>") {
            template = """
            {{- if .System }}<|start_header_id|>system<|end_header_id|>

            {{ .System }}<|eot_id|>{{ end }}{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>

            {{ .Content }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>


            """
        } else if source.contains("<start_of_turn>") {
            template = """
            {{- range .Messages }}<start_of_turn>{{ if eq .Role "assistant" }}model{{ else }}{{ .Role }}{{ end }}
            {{ .Content }}<end_of_turn>
            {{ end }}<start_of_turn>model

            """
        }
        if let template { lines.append("TEMPLATE \"\"\"\(template)\"\"\"") }
        var stops: [String] = []
        for id in [tokenizer?.endOfTurnId, tokenizer?.eosId].compactMap({ $0 }) {
            if let t = tokenizer?.tokens[id], !stops.contains(t) { stops.append(t) }
        }
        for s in stops { lines.append("PARAMETER stop \"\(s.replacingOccurrences(of: "\"", with: "\\\""))\"") }
        lines.append("PARAMETER temperature \(temperature)")
        return (lines.joined(separator: "\n") + "\n", template != nil)
    }

    /// Writes `Modelfile` beside the GGUF file at `ggufPath` (atomically); returns its path and
    /// whether it has a TEMPLATE.
    public static func write(besides ggufPath: String, tokenizer: Tokenizer?) throws -> (path: String, template: Bool) {
        let url = URL(fileURLWithPath: ggufPath)
        let (text, template) = text(gguf: url.lastPathComponent, tokenizer: tokenizer)
        let path = url.deletingLastPathComponent().appendingPathComponent("Modelfile").path
        try AtomicFile.write(Data(text.utf8), to: path)
        return (path, template)
    }
}
