/// A part of a message, one template file each.
public enum TemplatePart: String, Sendable, CaseIterable {
    case emailSubject = "email-subject"
    case emailText = "email-text"
    case emailHTML = "email-html"
    case sms
    case letter

    /// HTML and letter parts escape variables; subject, text and SMS do not.
    public var escapesHTML: Bool {
        switch self {
        case .emailHTML, .letter: true
        case .emailSubject, .emailText, .sms: false
        }
    }
}
