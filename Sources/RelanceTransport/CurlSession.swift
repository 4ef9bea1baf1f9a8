import CCurl
import Foundation

/// One libcurl easy handle and its buffers, shared by the SMTP and HTTP transports:
/// one per worker, so a connection is kept alive between messages.
///
/// `@unchecked Sendable`: the handle and buffers are only touched on `queue`, a serial
/// queue of its own, so blocking network calls never run on Swift's cooperative pool
/// and never run concurrently. The buffers are heap-allocated because libcurl keeps
/// pointers to them between calls.
public final class CurlSession: @unchecked Sendable {
    private let queue: DispatchQueue
    private var handle: UnsafeMutableRawPointer?
    /// The request body (SMTP DATA, HTTP POST), read by libcurl from its offset.
    public let upload = UnsafeMutablePointer<relance_buffer>.allocate(capacity: 1)
    /// The response body (HTTP).
    public let body = UnsafeMutablePointer<relance_buffer>.allocate(capacity: 1)
    /// The protocol dialogue lines the server sent (SMTP replies).
    public let replies = UnsafeMutablePointer<relance_buffer>.allocate(capacity: 1)
    /// What the HTTP request guard saw during the last transfer (`HTTPClient`).
    public let requestGuard = UnsafeMutablePointer<relance_request_guard>.allocate(capacity: 1)

    public init(label: String) {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
        queue = DispatchQueue(label: label)
        for buffer in [upload, body, replies] { relance_buffer_init(buffer) }
        requestGuard.initialize(to: relance_request_guard(fence_ns: 0, requests: 0, refused: 0))
    }

    deinit {
        if let handle { curl_easy_cleanup(handle) }
        for buffer in [upload, body, replies] {
            relance_buffer_free(buffer)
            buffer.deallocate()
        }
        requestGuard.deallocate()
    }

    /// Runs `work` on the session's queue with the easy handle (created if needed) and
    /// empty buffers. `work` returns its result and whether the connection may be kept:
    /// after a failure its state is unknown, so the handle is dropped and the next call
    /// starts afresh.
    public func perform<T: Sendable>(
        _ work: @escaping @Sendable (_ curl: UnsafeMutableRawPointer) -> (result: T, keep: Bool),
        orElse failure: @escaping @Sendable (String) -> T
    ) async -> T {
        await performOnConnection({ curl, _ in work(curl) }, orElse: failure)
    }

    /// `perform`, telling `work` whether the handle is new (no connection opened yet):
    /// for a protocol spoken over a connection kept open (`CurlStream`).
    public func performOnConnection<T: Sendable>(
        _ work: @escaping @Sendable (_ curl: UnsafeMutableRawPointer, _ isNew: Bool) -> (result: T, keep: Bool),
        orElse failure: @escaping @Sendable (String) -> T
    ) async -> T {
        await withCheckedContinuation { (done: CheckedContinuation<T, Never>) in
            queue.async {
                let isNew = self.handle == nil
                if isNew { self.handle = curl_easy_init() }
                guard let curl = self.handle else {
                    done.resume(returning: failure("libcurl could not create a handle"))
                    return
                }
                for buffer in [self.upload, self.body, self.replies] { relance_buffer_reset(buffer) }
                let (result, keep) = work(curl, isNew)
                if !keep {
                    curl_easy_cleanup(curl)
                    self.handle = nil
                }
                done.resume(returning: result)
            }
        }
    }

    /// Closes the connection (the handle); a later `perform` opens a new one.
    public func close() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            queue.async {
                if let handle = self.handle { curl_easy_cleanup(handle) }
                self.handle = nil
                done.resume()
            }
        }
    }

    /// The text in `buffer`, at most `limit` bytes.
    public static func text(_ buffer: UnsafeMutablePointer<relance_buffer>, limit: Int = .max) -> String {
        guard let data = buffer.pointee.data else { return "" }
        return String(
            decoding: UnsafeRawBufferPointer(start: data, count: min(buffer.pointee.length, limit)), as: UTF8.self)
    }

    /// Copies `bytes` into `buffer`.
    public static func fill(_ buffer: UnsafeMutablePointer<relance_buffer>, with bytes: [UInt8]) {
        _ = bytes.withUnsafeBufferPointer { raw in
            raw.withMemoryRebound(to: CChar.self) { relance_buffer_append(buffer, $0.baseAddress, $0.count) }
        }
    }
}
