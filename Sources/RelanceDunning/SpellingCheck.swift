import Foundation
import RelanceCore
import RelanceTemplates

/// `relance templates check --spelling`: hunspell over the text of every template and
/// partial, in the dictionary of its locale, with the Mustache tags, HTML tags and entities,
/// letter markers and words holding digits (`L441-10`, `F-2026-0142`) left out. Words a
/// language needs that its dictionary lacks (proper nouns, the names of foreign laws) are
/// listed in `spelling/<language>.words` in the templates directory, one a line, `#` for
/// comments.
public struct SpellingCheck: Sendable {
    public let directory: String
    /// Where hunspell's dictionaries are (Debian: /usr/share/hunspell).
    public var dictionaryDirectories = ["/usr/share/hunspell", "/usr/share/myspell/dicts"]
    public var hunspell = "hunspell"

    public init(directory: String) { self.directory = directory }

    /// The dictionary of a language when the locale's own is not installed: Debian's
    /// `hunspell-fr`, `hunspell-en-gb`, `hunspell-de-de`, `hunspell-es`, `hunspell-it`,
    /// `hunspell-nl`.
    public static let languageDictionaries = [
        "fr": "fr_FR", "en": "en_GB", "de": "de_DE", "es": "es_ES", "it": "it_IT", "nl": "nl_NL",
    ]

    /// A word hunspell refused: where, and in which dictionary.
    public struct Finding: Sendable, Equatable, CustomStringConvertible {
        public var file: String
        public var line: Int
        public var word: String
        public var dictionary: String
        public var description: String { "\(file):\(line): '\(word)' is not in \(dictionary) (spelling/*.words)" }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Every refused word of every template, or a failure when hunspell or a dictionary is
    /// missing (the check never passes by not running).
    public func run() throws(Failure) -> [Finding] {
        var findings: [Finding] = []
        for (locale, files) in filesByLocale() {
            let dictionary = try dictionary(for: locale)
            let accepted = try acceptedWords(for: locale)
            var lines: [(file: String, line: Int, text: String)] = []
            for file in files {
                guard let text = try? String(contentsOfFile: directory + "/" + file, encoding: .utf8) else { continue }
                // CRLF is one Character in Swift: made "\n" first, as hunspell reads it.
                let unix = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
                for (number, line) in unix.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                    for piece in Self.pieces(Self.prose(String(line))) { lines.append((file, number + 1, piece)) }
                }
            }
            let refused = try check(lines.map(\.text), dictionary: dictionary)
            for (index, words) in refused {
                for word in words
                where !accepted.contains(word) && !word.contains(where: \.isNumber) && word.contains(where: \.isLetter)
                {
                    findings.append(
                        Finding(file: lines[index].file, line: lines[index].line, word: word, dictionary: dictionary))
                }
            }
        }
        return findings.sorted { ($0.file, $0.line) < ($1.file, $1.line) }
    }

    /// Template files by locale folder: `<message>/<locale>/*.mustache` and partials.
    func filesByLocale() -> [(String, [String])] {
        let fm = FileManager.default
        var byLocale: [String: [String]] = [:]
        let reserved: Set<String> = ["samples", "scenarios", TemplateCatalog.wordingFolder, "spelling"]
        for top in ((try? fm.contentsOfDirectory(atPath: directory)) ?? []).sorted() where !reserved.contains(top) {
            for locale in ((try? fm.contentsOfDirectory(atPath: directory + "/" + top)) ?? []).sorted() {
                let folder = directory + "/" + top + "/" + locale
                for file in ((try? fm.contentsOfDirectory(atPath: folder)) ?? []).sorted()
                where file.hasSuffix(".mustache") {
                    byLocale[locale, default: []].append("\(top)/\(locale)/\(file)")
                }
            }
        }
        return byLocale.sorted { $0.key < $1.key }
    }

    /// The installed dictionary for `fr-BE` (`fr_BE`), else its language's.
    func dictionary(for locale: String) throws(Failure) -> String {
        let language = MessageLanguage.language(of: locale)
        var candidates = [locale.replacingOccurrences(of: "-", with: "_")]
        if let fallback = Self.languageDictionaries[language] { candidates.append(fallback) }
        candidates.append(language)
        for name in candidates {
            for folder in dictionaryDirectories where FileManager.default.fileExists(atPath: "\(folder)/\(name).dic") {
                return name
            }
        }
        throw Failure(
            description:
                "no hunspell dictionary for locale '\(locale)' (looked for \(candidates.joined(separator: ", ")) in \(dictionaryDirectories.joined(separator: ", "))): install it, e.g. apt-get install hunspell-\(language)"
        )
    }

    /// `spelling/<language>.words` and `spelling/<locale>.words`.
    func acceptedWords(for locale: String) throws(Failure) -> Set<String> {
        var words: Set<String> = []
        for name in Set([MessageLanguage.language(of: locale), locale]) {
            let path = "\(directory)/spelling/\(name).words"
            guard let bytes = FileManager.default.contents(atPath: path) else { continue }
            guard let text = TextRules.strictUTF8(bytes) else {
                throw Failure(description: "spelling/\(name).words: not UTF-8 (one word a line)")
            }
            for line in text.split(whereSeparator: \.isNewline) {
                let word = line.trimmingCharacters(in: .whitespaces)
                if !word.isEmpty && !word.hasPrefix("#") { words.insert(word) }
            }
        }
        return words
    }

    /// The words a reader sees on a template line: tags, comments, markup and entities out.
    static func prose(_ line: String) -> String {
        var text = line
        for pattern in [#"\{\{[^}]*\}\}"#, #"%%[A-Z_]+%%"#, #"<[^>]*>"#, #"&#?[A-Za-z0-9]+;"#, #"https?://\S+"#] {
            text = text.replacingOccurrences(of: pattern, with: " ", options: .regularExpression)
        }
        // Control characters (a NUL, a form feed) are no words, and hunspell may read them as line ends.
        return String(
            String.UnicodeScalarView(text.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : $0 }))
    }

    /// A line cut at spaces into pieces hunspell reads whole (it reads a long line in
    /// parts of about 8 KB, and would answer for each).
    static func pieces(_ line: String, limit: Int = 4000) -> [String] {
        guard line.utf8.count > limit else { return [line] }
        var pieces: [String] = []
        var current = ""
        for word in line.split(separator: " ", omittingEmptySubsequences: true) {
            if !current.isEmpty && current.utf8.count + word.utf8.count + 1 > limit {
                pieces.append(current)
                current = ""
            }
            // A single word longer than the limit is no word: it is left out.
            guard word.utf8.count <= limit else { continue }
            current += current.isEmpty ? String(word) : " " + word
        }
        if !current.isEmpty { pieces.append(current) }
        return pieces.isEmpty ? [""] : pieces
    }

    /// hunspell's pipe mode (`-a`): each input line gives a line per word (`*` known,
    /// `&`/`#` refused, with the word second), then an empty line.
    func check(_ lines: [String], dictionary: String) throws(Failure) -> [Int: [String]] {
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("relance-spelling-\(UUID()).txt")
        // `^` makes each line text, whatever it starts with (`*`, `#`, `!` are commands).
        let body = lines.map { "^" + $0 }.joined(separator: "\n") + "\n"
        defer { try? FileManager.default.removeItem(at: input) }
        let output: String
        do {
            try body.write(to: input, atomically: true, encoding: .utf8)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            // `-p /dev/null`: no personal dictionary of whoever runs the check.
            process.arguments = [hunspell, "-a", "-i", "utf-8", "-p", "/dev/null", "-d", dictionary]
            process.standardInput = try FileHandle(forReadingFrom: input)
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw Failure(description: "hunspell -d \(dictionary) exited with status \(process.terminationStatus)")
            }
            output = String(decoding: data, as: UTF8.self)
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(description: "cannot run hunspell (apt-get install hunspell): \(error)")
        }
        var refused: [Int: [String]] = [:]
        var index = 0
        // The first line is hunspell's banner.
        for line in output.split(separator: "\n", omittingEmptySubsequences: false).dropFirst() {
            if line.isEmpty {
                index += 1
                continue
            }
            if line.hasPrefix("&") || line.hasPrefix("#") {
                guard index < lines.count, let word = line.split(separator: " ").dropFirst().first else {
                    throw Failure(description: "hunspell -d \(dictionary) answered for more lines than it was given")
                }
                refused[index, default: []].append(String(word))
            }
        }
        // One empty line a line given, and the output's own last line break.
        guard index == lines.count || index == lines.count + 1 else {
            throw Failure(description: "hunspell -d \(dictionary) answered \(index) lines of \(lines.count)")
        }
        return refused
    }
}
