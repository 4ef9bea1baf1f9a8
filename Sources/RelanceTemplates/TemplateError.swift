/// Why a template could not be loaded or rendered. Always names what and where.
public struct TemplateError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Kind: Sendable, Equatable {
        case notFound
        case syntax
        case data
        case io
    }
    public var kind: Kind
    public var message: String
    public var description: String { message }

    static func notFound(_ message: String) -> TemplateError { .init(kind: .notFound, message: message) }
    static func syntax(_ message: String) -> TemplateError { .init(kind: .syntax, message: message) }
    static func data(_ message: String) -> TemplateError { .init(kind: .data, message: message) }
    static func io(_ message: String) -> TemplateError { .init(kind: .io, message: message) }
}
