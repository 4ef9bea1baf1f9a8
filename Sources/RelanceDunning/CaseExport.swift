import Foundation
import RelanceCore
import RelanceStore

/// The file a lawyer gets for a case (`relance case export`): the history of every job
/// with its whole trace and the trace's hash chain, the exact messages sent (from the
/// archive), the payers' profiles and the invoice, in one ZIP with a checksum list.
public struct CaseExport: Sendable {
    public let store: any JobStore
    public let clock: any WallClock
    /// A case's jobs in one file at most (a reminder chain has a few; a `case_ref` reused
    /// by an API client for thousands would make a file nobody reads).
    public static let maximumJobs = 5000

    public init(store: any JobStore, clock: any WallClock) {
        self.store = store
        self.clock = clock
    }

    public struct Exported: Sendable {
        public var zip: [UInt8]
        /// The last sealed event's hash: whoever keeps it can later tell whether the
        /// case's trace was changed since.
        public var head: String?
        /// What the chain check found wrong (empty when intact).
        public var problems: [String]
        public var sealed: Int
        public var unsealed: Int
        public var messages: Int
        /// Attempts whose bytes the archive does not hold (sent before it existed, pruned).
        public var missing: [String]
    }

    public func export(caseRef: String) async throws -> Exported {
        let jobs = try await store.jobs(JobFilter(caseRef: caseRef, limit: Self.maximumJobs + 1))
        guard jobs.count <= Self.maximumJobs else {
            throw ScenarioError("case \(caseRef) has more than \(Self.maximumJobs) jobs: too many for one case file")
        }
        let invoice = try await store.invoice(ref: caseRef)
        guard !jobs.isEmpty || invoice != nil else { throw ScenarioError("case \(caseRef) has no job and no invoice") }
        let chain = try await store.chain(caseRef: caseRef)
        var problems = TraceChain.problems(chain.sealed)
        let links = Dictionary(chain.sealed.map { ($0.event.id, $0) }, uniquingKeysWith: { a, _ in a })
        let now = clock.now()
        var zip = ZipWriter(date: now)
        var files: [(String, [UInt8])] = []
        var missing: [String] = []
        var jobValues: [JSONValue] = []
        var archiveProblems: [String] = []
        var text = "History of case \(caseRef), exported \(Timestamp.string(from: now))\n"
        for job in jobs {
            let events = try await store.events(jobID: job.id)
            var value = job.jsonValue.objectValue ?? [:]
            value["trace"] = .array(
                events.map { event in
                    var o = event.jsonValue.objectValue ?? [:]
                    o["chain_prev"] = links[event.id].map { .string($0.previous) } ?? .null
                    o["chain_hash"] = links[event.id].map { .string($0.hash) } ?? .null
                    return .object(o)
                })
            jobValues.append(.object(value))
            text += "\nJob \(job.id): \(job.template) by \(job.channel) to \(job.payerRef), \(job.state.rawValue)\n"
            for event in events {
                text += "  \(event.at)  \(event.kind.rawValue) (attempt \(event.attempt))  \(event.detail.jsonText)\n"
                guard event.kind == .rendered, let sha = event.detail["content_sha256"]?.stringValue else { continue }
                let name = "job-\(job.id)-attempt-\(event.attempt)"
                do {
                    if let message = try await store.archived(sha256: sha) {
                        let ext =
                            message.mediaType == ArchivedMessage.letter
                            ? "pdf" : message.mediaType == ArchivedMessage.email ? "eml" : "txt"
                        files.append(("messages/\(name).\(ext)", message.bytes))
                    } else {
                        // Its trace is still here, and the trace is pruned long before the
                        // archive (retention.finished_jobs < archive.retention): removed.
                        missing.append("\(name) (sha256 \(sha))")
                        archiveProblems.append("the message of \(name) is missing from the archive (sha256 \(sha))")
                    }
                } catch let error as ArchiveError {
                    archiveProblems.append("the message of \(name): \(error.description)")
                }
            }
        }
        var payers: [JSONValue] = []
        for ref in Set(jobs.map(\.payerRef) + (invoice.map { [$0.payerRef] } ?? [])).sorted() {
            payers.append((try? await store.payer(ref: ref))??.jsonValue ?? .object(["ref": .string(ref)]))
        }
        problems += archiveProblems
        let head = chain.sealed.last?.hash
        let history = JSONValue.object([
            "case_ref": .string(caseRef), "exported_at": .string(Timestamp.string(from: now)),
            "payers": .array(payers), "invoice": invoice.map(Self.invoiceValue) ?? .null, "jobs": .array(jobValues),
            "chain": .object([
                "head": head.map(JSONValue.string) ?? .null, "sealed": .number(String(chain.sealed.count)),
                "unsealed": .number(String(chain.unsealed.count)),
                "anchor": chain.sealed.first.map { .string($0.previous) } ?? .null,
                "problems": .array(problems.map(JSONValue.string)),
            ]),
            "messages_not_archived": .array(missing.map(JSONValue.string)),
        ])
        let verdict =
            problems.isEmpty
            ? "The hash chain of its \(chain.sealed.count) sealed events is intact, and every message sent is here."
            : "THE EVIDENCE WAS ALTERED:\n" + problems.map { "  - " + $0 }.joined(separator: "\n")
        let readme = """
            Case \(caseRef), exported by Relance at \(Timestamp.string(from: now)).

            history.json  every job of the case with its whole trace; each trace event carries
                          chain_prev and chain_hash (sha256 of chain_prev, a line feed, and the
                          event as canonical JSON: see TraceChain in the sources)
            history.txt   the same, to read
            messages/     the exact bytes handed to each provider (.eml: the e-mail as sent,
                          .txt: the SMS as sent, .pdf: the letter), named job-ID-attempt-N
            SHA256SUMS    the checksum of every file here (sha256sum -c SHA256SUMS)

            Chain head: \(head ?? "none (no event sealed yet)")
            \(verdict)
            \(chain.unsealed.isEmpty ? "" : "\(chain.unsealed.count) event(s) were too recent to be sealed yet.\n")\
            \(missing.isEmpty ? "" : "Not in the archive: \(missing.joined(separator: ", ")).\n")
            """
        files.insert(("history.txt", Array((text + "\n" + verdict + "\n").utf8)), at: 0)
        files.insert(("history.json", Array(history.jsonText.utf8)), at: 0)
        files.insert(("README.txt", Array(readme.utf8)), at: 0)
        var sums = ""
        do {
            for (name, bytes) in files {
                try zip.add(name, bytes)
                sums += "\(SHA256.hex(bytes))  \(name)\n"
            }
            try zip.add("SHA256SUMS", Array(sums.utf8))
        } catch let error as ZipError {
            throw ScenarioError("case \(caseRef): \(error.description)")
        }
        return Exported(
            zip: zip.finish(), head: head, problems: problems, sealed: chain.sealed.count,
            unsealed: chain.unsealed.count, messages: files.count - 3, missing: missing)
    }

    static func invoiceValue(_ invoice: Invoice) -> JSONValue {
        .object([
            "number": .string(invoice.ref), "payer_ref": .string(invoice.payerRef),
            "currency": .string(invoice.currency),
            "amount": .string(Invoice.text(invoice.amount)), "balance": .string(Invoice.text(invoice.balance)),
            "issue_date": .string(invoice.issueDate), "due_date": .string(invoice.dueDate),
            "status": .string(invoice.status.rawValue), "paid_at": invoice.paidAt.map(JSONValue.string) ?? .null,
        ])
    }
}
