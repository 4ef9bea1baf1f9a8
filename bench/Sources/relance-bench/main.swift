// relance-bench: the composition alone, on one thread (render, context, MIME, SMS
// encoding or the letter's PDF), for `make bench` to set beside the end-to-end rates.
// Not shipped: the daemon's `relance render` previews one message.
//
//   relance-bench --config relance.yaml --payer P --template reminder-1 [--channel letter]
//                 [--data JSON] --repeat 20000
import Foundation
import Logging
import RelanceCore
import RelanceDaemon
import RelanceDunning

struct Options {
    var config: String?
    var payer = ""
    var template = ""
    var channel = "email"
    var data: String?
    var times = 1000

    init(_ arguments: [String]) throws {
        var rest = arguments[...]
        func value(_ name: String) throws -> String {
            guard let next = rest.popFirst() else { throw BenchError("\(name) needs a value") }
            return next
        }
        while let argument = rest.popFirst() {
            switch argument {
            case "--config": config = try value(argument)
            case "--payer": payer = try value(argument)
            case "--template": template = try value(argument)
            case "--channel": channel = try value(argument)
            case "--data": data = try value(argument)
            case "--repeat":
                guard let n = Int(try value(argument)), n > 0 else { throw BenchError("--repeat takes a count") }
                times = n
            default: throw BenchError("unknown argument \(argument)")
            }
        }
        if payer.isEmpty || template.isEmpty { throw BenchError("give --payer and --template") }
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func seconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = (ContinuousClock.now - start).components
    return Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
}

func main() async throws {
    let options = try Options(Array(CommandLine.arguments.dropFirst()))
    let config = try await RelanceConfig.load(
        path: options.config ?? ProcessInfo.processInfo.environment["RELANCE_CONFIG"])
    let runtime = try await Runtime.open(config: config, logger: Logger(label: "relance-bench"), migrate: true)
    let composer = try runtime.composer()
    guard let payer = try await runtime.store.payer(ref: options.payer) else {
        throw BenchError("payer \(options.payer) does not exist")
    }
    var data = options.data ?? "{}"
    if options.data == nil,
        let sample = try? String(
            contentsOfFile: config.templatesDirectory + "/samples/\(options.template).json", encoding: .utf8)
    {
        data = sample
    }
    var job = Job(
        id: 1, payerRef: payer.ref, channel: options.channel, template: options.template, data: data, runAt: "",
        dueAt: "", createdAt: "", updatedAt: "")
    job.attempt = 1
    let start = ContinuousClock.now
    if options.channel == Channel.letter.rawValue {
        var pages = 0
        for _ in 0..<options.times { pages = try composer.letter(job: job, payer: payer).letter.pages }
        let elapsed = seconds(since: start)
        print(
            "rendered \(options.times) letters of \(pages) page(s) in \(String(format: "%.2f", elapsed)) s: "
                + String(format: "%.0f letters/s (one thread)", Double(options.times) / elapsed))
        return
    }
    var bytes = 0
    for _ in 0..<options.times {
        switch try composer.compose(job: job, payer: payer).payload {
        case .email(_, let text): bytes = text.utf8.count
        case .sms(let sms): bytes = sms.text.utf8.count
        case .letter: break
        }
    }
    let elapsed = seconds(since: start)
    print(
        "composed \(options.times) \(options.channel) messages (\(bytes) bytes) in \(String(format: "%.2f", elapsed)) s: "
            + String(
                format: "%.0f messages/s, %.1f µs each (one thread)", Double(options.times) / elapsed,
                elapsed / Double(options.times) * 1e6))
}

do {
    try await main()
} catch {
    FileHandle.standardError.write(Data("relance-bench: \(error)\n".utf8))
    exit(1)
}
