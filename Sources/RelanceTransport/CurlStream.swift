import CCurl
import Foundation

/// The byte stream of a connection libcurl opened with `CURLOPT_CONNECT_ONLY` (after
/// the protocol's own opening: for SMTP the greeting, EHLO, STARTTLS and AUTH), read
/// and written with `curl_easy_recv`/`curl_easy_send`, so TLS stays libcurl's.
/// Only used on the owning `CurlSession`'s queue: the calls block (in `poll`) up to a
/// deadline.
public struct CurlStream {
    public enum Failure: Error, Equatable {
        /// The peer closed the connection.
        case closed
        /// Nothing came (or could be written) before the deadline.
        case timedOut
        /// libcurl or the socket reported an error.
        case failed(String)
    }

    private let curl: UnsafeMutableRawPointer
    private let socket: Int32

    /// Nil when the handle has no open connection.
    public init?(curl: UnsafeMutableRawPointer) {
        let socket = relance_curl_active_socket(curl)
        guard socket >= 0 else { return nil }
        self.curl = curl
        self.socket = socket
    }

    /// Writes all of `bytes`.
    public func send(_ bytes: [UInt8], until deadline: ContinuousClock.Instant) throws(Failure) {
        var offset = 0
        while offset < bytes.count {
            var sent = 0
            let code = bytes.withUnsafeBytes { raw in
                curl_easy_send(curl, raw.baseAddress! + offset, raw.count - offset, &sent)
            }
            switch code {
            case CURLE_OK: offset += sent
            case CURLE_AGAIN: try wait(for: Int16(POLLOUT), until: deadline)
            default: throw .failed(Self.describe(code))
            }
        }
    }

    /// Reads what is available (at least one byte) into `buffer`; the count read.
    public func receive(into buffer: UnsafeMutableRawBufferPointer, until deadline: ContinuousClock.Instant)
        throws(Failure) -> Int
    {
        while true {
            var received = 0
            let code = curl_easy_recv(curl, buffer.baseAddress, buffer.count, &received)
            switch code {
            case CURLE_OK:
                guard received > 0 else { throw .closed }
                return received
            // TLS may have read a record with nothing for us (a session ticket): wait again.
            case CURLE_AGAIN: try wait(for: Int16(POLLIN), until: deadline)
            default: throw .failed(Self.describe(code))
            }
        }
    }

    /// Whether the connection can take a new request: nothing has arrived unasked and the
    /// peer has not closed it (a server closes an idle connection after its timeout, often
    /// with a `421`). Does not block.
    public func isReusable() -> Bool {
        var entry = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, 0) > 0 else { return true }
        var byte: UInt8 = 0
        var received = 0
        return curl_easy_recv(curl, &byte, 1, &received) == CURLE_AGAIN
    }

    /// Stops the connection at once in both directions: after a failure the peer's state
    /// is unknown (it may be waiting for a message after its `354`), and nothing more may
    /// reach it. (libcurl's cleanup of a `CONNECT_ONLY` connection sends nothing itself.)
    public func shutDown() {
        _ = Glibc.shutdown(socket, Int32(SHUT_RDWR))
    }

    private func wait(for events: Int16, until deadline: ContinuousClock.Instant) throws(Failure) {
        while true {
            let milliseconds = Self.milliseconds(until: deadline)
            guard milliseconds > 0 else { throw .timedOut }
            var entry = pollfd(fd: socket, events: events, revents: 0)
            let ready = poll(&entry, 1, Int32(clamping: milliseconds))
            if ready > 0 { return }
            if ready < 0 && errno != EINTR { throw .failed("poll: \(String(cString: strerror(errno)))") }
        }
    }

    /// Whole milliseconds left until `deadline` (rounded up), 0 once it has passed.
    public static func milliseconds(until deadline: ContinuousClock.Instant) -> Int {
        let left = ContinuousClock.now.duration(to: deadline)
        guard left > .zero else { return 0 }
        let (seconds, attoseconds) = left.components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000) + 1
    }

    private static func describe(_ code: CURLcode) -> String {
        "\(String(cString: curl_easy_strerror(code))) (libcurl \(code.rawValue))"
    }
}
