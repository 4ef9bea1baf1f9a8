import Foundation
import RelanceConsole

extension RelanceConfig {
    /// The web console's keys (`console.*`); nil when `console.listen` is not set. The
    /// users file is checked now (readable, every line well formed) and read again by
    /// the console whenever it changes.
    static func consoleSettings(_ r: Reader, state: String, environment: [String: String]) throws -> ConsoleSettings? {
        guard let listen = try r.string("console.listen") else {
            for key in ["console.users_file", "console.audit_file"] where try r.string(key) != nil {
                throw ConfigError("\(r.origin(key)): \(key) is set but console.listen is not: the console is off")
            }
            return nil
        }
        let (host, port) = try hostPort(r, "console.listen", listen, example: "127.0.0.1:8427")
        if try r.bool(defaulted: "api.enabled") {
            let api = try hostPort(r, "api.listen", try r.string(defaulted: "api.listen"), example: "127.0.0.1:8425")
            if api.0 == host && api.1 == port {
                throw ConfigError(
                    "\(r.origin("console.listen")): console.listen \(listen) is the HTTP API's address (api.listen): give the console a port of its own"
                )
            }
        }
        var usersFile: String?
        if let file = try r.string("console.users_file"), !file.isEmpty {
            let text = try ConfigSources.readSecret(
                file, key: "console.users_file", environment: environment, configFile: r.file, lines: true)
            do { _ = try ConsoleUsers.parse(text, source: file) } catch {
                throw ConfigError("\(r.origin("console.users_file")): console.users_file: \(error)")
            }
            usersFile = file
            if !file.hasPrefix("/"), let credentials = environment["CREDENTIALS_DIRECTORY"],
                FileManager.default.fileExists(atPath: credentials + "/" + file)
            {
                usersFile = credentials + "/" + file
            }
        }
        return ConsoleSettings(
            host: host, port: port, usersFile: usersFile,
            auditFile: try r.string("console.audit_file") ?? state + "/console-audit.log",
            secureCookies: try r.bool(defaulted: "console.secure_cookies"),
            sessionIdleSeconds: try r.duration(defaulted: "console.session_idle"))
    }
}
