import ArgumentParser
import Foundation
import RelanceConsole

/// `relance console user …`: the web console's users file (docs/CONSOLE.md).
struct ConsoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console", abstract: "The web console's users.", subcommands: [User.self])

    struct User: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add, remove or list the console's users.", subcommands: [Add.self, Remove.self, List.self])
    }

    struct FileOption: ParsableArguments {
        @Option(help: "The users file (the daemon's console.users_file).") var file: String
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a user, or set a user's role and password. Asks for the password twice, without echo.")
        @Argument(help: "Letters, digits and . _ - @ (1 to 64).") var name: String
        @Option(help: "admin, viewer or advisor.") var role: String
        @OptionGroup var file: FileOption
        @Flag(help: "Read the password from standard input (one line), for scripts.") var passwordStdin = false

        func run() async throws {
            if let problem = ConsoleUsers.nameProblem(name) { throw CLIError("user name \(problem)") }
            guard let role = ConsoleRole(rawValue: role) else {
                throw CLIError(
                    "--role: unknown role '\(role)' (\(ConsoleRole.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            let password: String
            if passwordStdin {
                guard let line = readLine(strippingNewline: true) else {
                    throw CLIError("no password on standard input")
                }
                password = line
            } else {
                password = try ConsoleCommand.askTwice()
            }
            if let problem = PasswordHash.problem(password) { throw CLIError("the password \(problem)") }
            let hash = try await PasswordHash.hash(password)
            try ConsoleCommand.locked(file.file) {
                var users = try ConsoleCommand.read(file.file, missingIsEmpty: true)
                users.set(ConsoleUser(name: name, role: role, hash: hash))
                try ConsoleCommand.save(users, to: file.file)
            }
            print("\(name): \(role.rawValue) in \(file.file)")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a user; their sessions end at once.")
        @Argument var name: String
        @OptionGroup var file: FileOption
        func run() async throws {
            try ConsoleCommand.locked(file.file) {
                var users = try ConsoleCommand.read(file.file, missingIsEmpty: false)
                guard users.user(named: name) != nil else { throw CLIError("no user \(name) in \(file.file)") }
                users.users.removeAll { $0.name == name }
                try ConsoleCommand.save(users, to: file.file)
            }
            print("\(name) removed from \(file.file)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The users and their roles (never the hashes).")
        @OptionGroup var file: FileOption
        func run() async throws {
            for user in try ConsoleCommand.read(file.file, missingIsEmpty: false).users {
                print("\(user.name) \(user.role.rawValue)")
            }
        }
    }

    /// Runs `body` holding an exclusive lock on `<file>.lock`: two `user add` at once both
    /// land, instead of the last one's file replacing the first's.
    static func locked(_ path: String, _ body: () throws -> Void) throws {
        let fd = open(path + ".lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw CLIError("cannot lock \(path).lock: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard flock(fd, LOCK_EX) == 0 else { throw CLIError("cannot lock \(path).lock") }
        defer { flock(fd, LOCK_UN) }
        try body()
    }

    static func read(_ path: String, missingIsEmpty: Bool) throws -> ConsoleUsers {
        if missingIsEmpty, !FileManager.default.fileExists(atPath: path) { return ConsoleUsers() }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw CLIError("cannot read \(path): \(error.localizedDescription)")
        }
        do { return try ConsoleUsers.parse(text, source: path) } catch { throw CLIError("\(error)") }
    }

    /// Written whole or not at all (a temporary file renamed). A new file is readable by
    /// its owner only; an existing one keeps its owner, group and mode (the daemon's
    /// user must still read it).
    static func save(_ users: ConsoleUsers, to path: String) throws {
        let temporary = path + ".tmp-\(getpid())"
        var existing = stat()
        let exists = lstat(path, &existing) == 0
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CLIError("cannot write \(temporary): \(String(cString: strerror(errno)))") }
        if exists {
            _ = fchown(fd, existing.st_uid, existing.st_gid)
            _ = fchmod(fd, existing.st_mode & 0o7777)
        }
        let bytes = Array(users.text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == bytes.count, synced, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw CLIError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Asks on the terminal, echo off, twice.
    static func askTwice() throws -> String {
        guard isatty(STDIN_FILENO) == 1 else {
            throw CLIError("standard input is not a terminal: give the password with --password-stdin")
        }
        let first = try ask("Password: ")
        let second = try ask("Password again: ")
        guard first == second else { throw CLIError("the two passwords differ; nothing was changed") }
        return first
    }

    static func ask(_ prompt: String) throws -> String {
        FileHandle.standardError.write(Data(prompt.utf8))
        var saved = termios()
        guard tcgetattr(STDIN_FILENO, &saved) == 0 else { throw CLIError("cannot read the terminal's settings") }
        var silent = saved
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent)
        defer {
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved)
            FileHandle.standardError.write(Data("\n".utf8))
        }
        guard let line = readLine(strippingNewline: true) else { throw CLIError("no password given") }
        return line
    }
}
