import ArgumentParser
import Foundation
import RelanceCore
import RelanceDaemon
import RelanceDunning
import RelanceTemplates
import RelanceTransport

struct Render: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print what would be sent for a job, or for a payer and template. Sends nothing.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "A job id.") var job: Int64?
    @Option var payer: String?
    @Option var template: String?
    @Option var channel: String = "email"
    @Option(name: .customLong("case")) var caseRef: String?
    @Option var data: String?
    @Flag(help: "Print the whole MIME message.") var mime = false
    @Option(help: "For a letter: write the PDF here (a preview; nothing is sent).") var out: String?

    func run() async throws {
        let runtime = try await options.runtime()
        let composer = try runtime.composer()
        var subject: Job
        if let id = job {
            guard let found = try await runtime.store.job(id: id) else { throw CLIError("job \(id) does not exist") }
            subject = found
        } else {
            guard let payer, let template else { throw CLIError("give a job id, or --payer and --template") }
            var dataText = data ?? "{}"
            if data == nil,
                let sample = try? String(
                    contentsOfFile: runtime.config.templatesDirectory + "/samples/\(template).json", encoding: .utf8)
            {
                dataText = sample
            }
            subject = Job(
                id: 0, payerRef: payer, caseRef: caseRef, channel: channel, template: template, data: dataText,
                runAt: "",
                dueAt: "", createdAt: "", updatedAt: "")
        }
        guard let payerProfile = try await runtime.store.payer(ref: subject.payerRef) else {
            throw CLIError("payer \(subject.payerRef) does not exist")
        }
        if subject.attempt == 0 { subject.attempt = 1 }
        if job != nil {
            FileHandle.standardError.write(
                Data(
                    "# today's rendering (templates and payer profile as they are now), not necessarily what was sent: `relance jobs show \(subject.id) --content` prints the archived message\n"
                        .utf8))
        }
        if out != nil, subject.channel != Channel.letter.rawValue {
            throw CLIError(
                "--out writes a letter's PDF; this is \(subject.channel == "sms" ? "an SMS" : "an e-mail"): print it (--mime for the whole message) and redirect"
            )
        }
        do {
            if subject.channel == Channel.letter.rawValue {
                let letter = try composer.letter(job: subject, payer: payerProfile).letter
                guard let out else {
                    throw CLIError("a letter is a PDF: give --out FILE.pdf (\(letter.pages) page(s))")
                }
                do { try SafeFile.write(letter.pdf, to: out) } catch {
                    throw CLIError("\(error)")
                }
                // With `--out -` the PDF is standard output: the summary goes to standard error.
                let summary =
                    "\(out): \(letter.pages) page(s), \(letter.pdf.count) bytes, sha256 \(letter.sha256)\n"
                    + "address: " + letter.address.joined(separator: " / ") + "\n"
                if out == "-" {
                    FileHandle.standardError.write(Data(summary.utf8))
                } else {
                    print(summary, terminator: "")
                }
                return
            }
            if mime || subject.channel == Channel.sms.rawValue {
                let composed = try composer.compose(job: subject, payer: payerProfile)
                switch composed.payload {
                case .email(_, let text): print(text.replacingOccurrences(of: "\r\n", with: "\n"))
                case .letter: break
                case .sms(let sms):
                    // What the gateway gets: sanitised text, its encoding and segment count.
                    print("# to \(sms.to), \(sms.encoding.rawValue), \(sms.segments) segment(s)")
                    print(sms.text)
                }
                return
            }
            let rendered = try composer.render(job: subject, payer: payerProfile)
            print(
                "# templates: \(rendered.files.joined(separator: ", ")) (locale \(rendered.locale)\(rendered.variant.map { ", variant \($0)" } ?? ""))"
            )
            for part in TemplatePart.allCases where rendered.parts[part] != nil {
                print("----- \(part.rawValue)")
                print(rendered.parts[part]!)
            }
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError("cannot render job: \(DispatchFailure.composing(error).message)")
        }
    }
}
