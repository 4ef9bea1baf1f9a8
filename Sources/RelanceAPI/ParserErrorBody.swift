import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import RelanceCore

/// The HTTP server's own 400 (a request line or header the parser refuses: a NUL, a
/// header over 80 KB, 5,000 headers, a malformed request line) goes out with the same
/// JSON error body as every other error, `bad_request`, naming what the parser refused.
///
/// Hummingbird writes that answer itself, below the router, as `400` with
/// `Content-Length: 0` and `Connection: close`; every answer of the router has a body, so
/// that head is recognisable. This handler sits in the channel between the HTTP codec
/// and the application, remembers the parser's error as it passes inbound, and gives
/// the empty answer its body on the way out.
final class ParserErrorBody: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private var parserError: HTTPParserError?
    /// The body to write before the `.end` of the answer being rewritten.
    private var pendingBody: ByteBuffer?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? HTTPParserError { parserError = error }
        context.fireErrorCaught(error)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head) where Self.isParserAnswer(head):
            let body = Self.body(for: parserError, allocator: context.channel.allocator)
            head.headerFields[.contentType] = "application/json; charset=utf-8"
            head.headerFields[.contentLength] = String(body.readableBytes)
            pendingBody = body
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .end(let trailers) where pendingBody != nil:
            context.write(wrapOutboundOut(.body(pendingBody!)), promise: nil)
            pendingBody = nil
            context.write(wrapOutboundOut(.end(trailers)), promise: promise)
        default:
            context.write(data, promise: promise)
        }
    }

    /// Hummingbird's answer to a parse error: 400, empty, closing. The router's 400s all
    /// carry a JSON body, so none of them matches.
    static func isParserAnswer(_ head: HTTPResponse) -> Bool {
        head.status == .badRequest && head.headerFields[.contentLength] == "0"
            && head.headerFields[.contentType] == nil
    }

    static func body(for error: HTTPParserError?, allocator: ByteBufferAllocator) -> ByteBuffer {
        let message = "the HTTP server refused the request: " + describe(error)
        let value = JSONValue.object([
            "error": .object(["code": .string("bad_request"), "message": .string(message)])
        ])
        var buffer = allocator.buffer(capacity: 160)
        buffer.writeString(value.jsonText)
        buffer.writeString("\n")
        return buffer
    }

    /// What the parser refused, in words a client's developer can act on.
    static func describe(_ error: HTTPParserError?) -> String {
        guard let error else { return "it is not valid HTTP/1.1" }
        switch error {
        case .headerOverflow:
            return "the request line or headers are too large (at most 80 KB in all, 1,000 header fields)"
        case .invalidCharactersUsed, .invalidHeaderToken, .lfExpected, .invalidConstant:
            return "a header name or value holds a character HTTP does not allow (a NUL or another control character)"
        case .invalidURL, .invalidPath, .invalidQueryString, .invalidFragment, .invalidHost, .invalidPort:
            return "the request target is not a valid URL path"
        case .invalidMethod: return "the method is not a valid HTTP method"
        case .invalidVersion: return "the HTTP version is not HTTP/1.x"
        case .invalidContentLength, .unexpectedContentLength:
            return "the Content-Length header is invalid"
        case .invalidChunkSize: return "a chunk size of the body is invalid"
        default: return "it is not valid HTTP/1.1 (\(error))"
        }
    }
}
