import RelanceCore

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

extension Channel {
    /// The parts a message must have to go out on this channel. A letter takes its title
    /// from the e-mail subject.
    public var requiredParts: [TemplatePart] {
        switch self {
        case .email: [.emailSubject, .emailText]
        case .sms: [.sms]
        case .letter: [.letter, .emailSubject]
        }
    }

    /// Parts sent when the template has them (an e-mail's HTML alternative).
    public var optionalParts: [TemplatePart] {
        switch self {
        case .email: [.emailHTML]
        case .sms, .letter: []
        }
    }

    /// The part whose presence says a message exists on this channel.
    public var mainPart: TemplatePart {
        switch self {
        case .email: .emailText
        case .sms: .sms
        case .letter: .letter
        }
    }
}
