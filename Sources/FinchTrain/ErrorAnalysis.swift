import Foundation

/// The built-in rules of error analysis: what kind of failure a prediction is, judged from its
/// text and its target the way one reads a table of answers — in this order, the first that
/// holds wins.
public enum ErrorRule: String, CaseIterable, Sendable {
    /// Nothing but whitespace.
    case empty
    /// Scored right by the evaluation's metric.
    case correct
    /// A refusal or the moderated answer ("Let's keep the discussion relevant to …").
    case moderated
    /// The same words over and over: a word 3-gram three or more times, or fewer than 40% of
    /// at least 12 words distinct.
    case repetitive
    /// More than three times the target's words (and over 30 words): it ran on past the answer.
    case tooLong = "too_long"
    /// Everything else.
    case wrong

    /// Whether this rule holds for a prediction (`correct` is the evaluation's verdict).
    public func matches(predicted: String, target: String, correct: Bool) -> Bool {
        switch self {
        case .empty: return predicted.allSatisfy(\.isWhitespace)
        case .correct: return correct
        case .moderated:
            let p = predicted.lowercased()
            return Self.moderationPhrases.contains { p.contains($0) }
        case .repetitive: return Self.isRepetitive(predicted)
        case .tooLong:
            let n = Self.words(predicted).count
            return n > 30 && n > 3 * Self.words(target).count
        case .wrong: return true
        }
    }

    /// The first rule that holds.
    public static func classify(predicted: String, target: String, correct: Bool) -> ErrorRule {
        allCases.first { $0.matches(predicted: predicted, target: target, correct: correct) }!
    }

    /// Phrases of refusals and of the lessons' moderated answer, lower case.
    static let moderationPhrases = ["keep the discussion relevant", "i can't help with", "i cannot help with",
                                    "i'm sorry, but i can", "i am sorry, but i can", "as an ai", "i can only answer questions about"]

    static func words(_ s: String) -> [Substring] {
        s.lowercased().split { !$0.isLetter && !$0.isNumber && $0 != "'" }
    }

    static func isRepetitive(_ s: String) -> Bool {
        let w = words(s)
        if w.count >= 12 && Double(Set(w).count) < 0.4 * Double(w.count) { return true }
        guard w.count >= 9 else { return false }
        var seen: [String: Int] = [:]
        for i in 0...(w.count - 3) {
            let key = w[i..<(i + 3)].joined(separator: " ")
            seen[key, default: 0] += 1
            if seen[key]! >= 3 { return true }
        }
        return false
    }
}

/// Elo ratings from pairwise judgements, updated one game at a time in order:
///   E_a = 1 / (1 + 10^((R_b − R_a) / 400)),  R_a ← R_a + K·(S_a − E_a),  R_b ← R_b − K·(S_a − E_a)
/// where S_a is 1 when a wins, 0 when b wins and ½ for a tie.
public struct EloRatings: Sendable {
    public struct Player: Sendable, Equatable {
        public let name: String
        public var rating: Double
        public var wins = 0, losses = 0, ties = 0
        public var games: Int { wins + losses + ties }
    }
    public private(set) var players: [Player] = []
    public let k: Double
    public let initial: Double

    public init(k: Double = 32, initial: Double = 1000) {
        self.k = k
        self.initial = initial
    }

    private mutating func index(_ name: String) -> Int {
        if let i = players.firstIndex(where: { $0.name == name }) { return i }
        players.append(Player(name: name, rating: initial))
        return players.count - 1
    }

    /// The expected score of a against b.
    public static func expected(_ ra: Double, _ rb: Double) -> Double { 1 / (1 + pow(10, (rb - ra) / 400)) }

    /// Records one game: `score` is a's result (1 win, 0 loss, 0.5 tie).
    public mutating func record(_ a: String, _ b: String, score: Double) {
        let i = index(a), j = index(b)
        let delta = k * (score - Self.expected(players[i].rating, players[j].rating))
        players[i].rating += delta
        players[j].rating -= delta
        if score == 1 { players[i].wins += 1; players[j].losses += 1 }
        else if score == 0 { players[i].losses += 1; players[j].wins += 1 }
        else { players[i].ties += 1; players[j].ties += 1 }
    }

    /// Players from the highest rating down.
    public var ranking: [Player] { players.sorted { $0.rating > $1.rating } }
}
