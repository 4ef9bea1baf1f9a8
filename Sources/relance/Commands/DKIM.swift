import ArgumentParser
import Foundation
import Glibc
import RelanceCore
import RelanceEmail

struct DKIMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dkim", abstract: "DKIM keys: generate one and print the DNS record to publish.",
        subcommands: [Keygen.self])

    struct Keygen: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a new private key (mode 0600, never over an existing file) and print its DNS TXT record.")
        @Option(help: "The selector (`s=`), e.g. relance2026.") var selector: String
        @Option(help: "The signing domain (`d=`), the domain of email.from or a parent of it.") var domain: String
        @Option(help: "ed25519 or rsa.") var algorithm: String = "ed25519"
        @Option(help: "RSA key size in bits (2048 or more; default 2048).") var bits: Int?
        @Option(help: "Where to write the private key (default: <selector>.<domain>.<algorithm>.key).")
        var keyFile: String?

        func run() throws {
            guard let algorithm = DKIMKey.Algorithm(rawValue: algorithm.lowercased()) else {
                throw CLIError("--algorithm: '\(algorithm)' is not ed25519 or rsa")
            }
            if algorithm == .ed25519 && bits != nil {
                throw CLIError("--bits is for RSA keys (add --algorithm rsa); an Ed25519 key has no size to choose")
            }
            if let problem = DKIMAlignment.selectorProblem(selector) {
                throw CLIError("--selector: '\(selector)' \(problem)")
            }
            let domain = domain.hasSuffix(".") ? String(domain.dropLast()) : domain
            guard let ascii = Punycode.asciiDomain(domain)?.lowercased(),
                ascii.split(separator: ".", omittingEmptySubsequences: false).count >= 2,
                DKIMAlignment.selectorProblem(ascii) == nil
            else { throw CLIError("--domain: '\(domain)' is not a domain name of at least two labels") }
            let bits = bits ?? 2048
            guard algorithm == .ed25519 || (DKIMKey.minimumRSABits...8192).contains(bits) else {
                throw CLIError("--bits: \(bits) is outside \(DKIMKey.minimumRSABits)…8192")
            }
            let path = keyFile ?? "\(selector).\(ascii).\(algorithm.rawValue).key"
            let key = try DKIMKey.generate(algorithm, bits: bits)
            guard !key.publicKeyBase64().isEmpty else { throw CLIError("OpenSSL could not give the public key") }
            try Self.writeNew(path, Array(try key.privatePEM().utf8))
            let name = "\(selector)._domainkey.\(ascii)."
            print("wrote the private key to \(path) (mode 0600; keep it secret)")
            print("publish this DNS TXT record:")
            print("\(name) IN TXT \(Self.zoneText(key.dnsRecord()))")
            print("then configure (and reload with SIGHUP):")
            print("email:\n  dkim:\n    domain: \(ascii)")
            print("    \(algorithm.rawValue):\n      selector: \(selector)\n      key_file: \(path)")
        }

        /// Creates `path` with mode 0600, refusing an existing file (a key in use must
        /// not be overwritten by a new one whose record is not published yet).
        static func writeNew(_ path: String, _ bytes: [UInt8]) throws {
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else {
                let why =
                    errno == EEXIST ? "it exists (a key in use is never overwritten)" : String(cString: strerror(errno))
                throw CLIError("cannot create \(path): \(why)")
            }
            var done = false
            defer {
                close(fd)
                // Never a partial key left behind (O_EXCL would refuse the next try).
                if !done { unlink(path) }
            }
            var offset = 0
            while offset < bytes.count {
                let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                if written < 0 {
                    if errno == EINTR { continue }
                    throw CLIError("cannot write \(path): \(String(cString: strerror(errno)))")
                }
                offset += written
            }
            guard fsync(fd) == 0 else { throw CLIError("cannot write \(path): \(String(cString: strerror(errno)))") }
            done = true
        }

        /// The record as zone-file text: strings of at most 255 characters (an RSA key's
        /// record is longer than one TXT string may be).
        static func zoneText(_ record: String) -> String {
            var parts: [String] = []
            var rest = Substring(record)
            while !rest.isEmpty {
                parts.append("\"\(rest.prefix(255))\"")
                rest = rest.dropFirst(255)
            }
            return parts.count == 1 ? parts[0] : "( " + parts.joined(separator: " ") + " )"
        }
    }
}
