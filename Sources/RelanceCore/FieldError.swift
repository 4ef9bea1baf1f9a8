/// A rejected input field: where (a JSON pointer such as `/payer/email`) and why.
public struct FieldError: Error, Sendable, Equatable, CustomStringConvertible {
    public var pointer: String
    public var message: String
    public init(_ pointer: String, _ message: String) {
        self.pointer = pointer
        self.message = message
    }
    public var description: String { "\(pointer.isEmpty ? "/" : pointer): \(message)" }
}

/// Several field errors at once, so a caller can fix everything in one go.
public struct InvalidFields: Error, Sendable, Equatable, CustomStringConvertible {
    public var errors: [FieldError]
    public init(_ errors: [FieldError]) { self.errors = errors }
    public var description: String { errors.map(\.description).joined(separator: "; ") }
}
