import Foundation
import RelanceCore

/// Turns an `EmailMessage` into RFC 5322 / MIME bytes with CRLF line endings:
/// multipart/alternative (text + HTML, the HTML inside multipart/related with the images it
/// shows), inside multipart/mixed when there are attachments.
public enum MIMEWriter {
    public static func render(_ message: EmailMessage) -> String {
        var out = ""
        func header(_ name: String, _ value: String) {
            out += MIMEEncoding.foldHeader(name: name, words: MIMEEncoding.encodeUnstructured(value))
        }
        func addressHeader(_ name: String, _ mailboxes: [Mailbox]) {
            var words: [String] = []
            for (i, mailbox) in mailboxes.enumerated() {
                let separator = i < mailboxes.count - 1 ? "," : ""
                if let display = mailbox.name, !display.trimmingCharacters(in: .whitespaces).isEmpty {
                    words += MIMEEncoding.encodeDisplayName(display).split(separator: " ").map(String.init)
                    words.append("<\(mailbox.address.value)>" + separator)
                } else {
                    words.append(mailbox.address.value + separator)
                }
            }
            out += MIMEEncoding.foldHeader(name: name, words: words)
        }
        addressHeader("From", [message.from])
        addressHeader("To", message.to)
        if let replyTo = message.replyTo { addressHeader("Reply-To", [replyTo]) }
        header("Subject", message.subject)
        out += "Date: \(MIMEEncoding.rfc5322Date(message.date))\r\n"
        out +=
            "Message-ID: <\(String(decoding: MIMEEncoding.sanitizeHeaderValue(message.messageID).utf8.filter { $0 != 0x20 }, as: UTF8.self))>\r\n"
        out += "MIME-Version: 1.0\r\n"
        // RFC 3834: tells auto-responders not to answer, and marks the message as automatic.
        out += "Auto-Submitted: auto-generated\r\n"
        for (name, value) in message.headers {
            let safeName = MIMEEncoding.headerName(name)
            guard !safeName.isEmpty else { continue }
            header(safeName, value)
        }
        let seed = SHA256.hex(message.messageID).prefix(24)
        let alternative = "=_alt_\(seed)"
        let mixed = "=_mixed_\(seed)"
        let related = "=_rel_\(seed)"
        var body = ""
        if let html = message.html {
            body += "Content-Type: multipart/alternative; boundary=\"\(alternative)\"\r\n\r\n"
            body += "This is a multi-part message in MIME format.\r\n"
            body += "--\(alternative)\r\n" + textPart(message.text, subtype: "plain")
            if message.inline.isEmpty {
                body += "--\(alternative)\r\n" + textPart(html, subtype: "html")
            } else {
                body += "--\(alternative)\r\n"
                body += "Content-Type: multipart/related; type=\"text/html\"; boundary=\"\(related)\"\r\n\r\n"
                body += "--\(related)\r\n" + textPart(html, subtype: "html")
                for image in message.inline { body += "--\(related)\r\n" + inlinePart(image) }
                body += "--\(related)--\r\n"
            }
            body += "--\(alternative)--\r\n"
        } else {
            body += textPart(message.text, subtype: "plain")
        }
        if message.attachments.isEmpty {
            out += body
        } else {
            out += "Content-Type: multipart/mixed; boundary=\"\(mixed)\"\r\n\r\n"
            out += "This is a multi-part message in MIME format.\r\n"
            out += "--\(mixed)\r\n" + body
            for attachment in message.attachments {
                out += "--\(mixed)\r\n" + attachmentPart(attachment)
            }
            out += "--\(mixed)--\r\n"
        }
        return out
    }

    static func textPart(_ text: String, subtype: String) -> String {
        "Content-Type: text/\(subtype); charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
            + MIMEEncoding.quotedPrintable(text) + "\r\n"
    }

    static func inlinePart(_ image: InlineImage) -> String {
        let type = image.contentType.filter { $0.isASCII && ($0.isLetter || $0.isNumber || "/.+-".contains($0)) }
        // A Content-ID is an msg-id: no spaces, brackets or quotes.
        let id = image.contentID.filter { $0.isASCII && !$0.isWhitespace && !"<>\"\\()[],;:".contains($0) }
        let name = image.filename.filter { $0.isASCII && ($0.isLetter || $0.isNumber || ".-_".contains($0)) }
        return "Content-Type: \(type.isEmpty ? "application/octet-stream" : type)\r\n"
            + "Content-Transfer-Encoding: base64\r\nContent-ID: <\(id)>\r\n"
            + "Content-Disposition: inline; filename=\"\(name.isEmpty ? "image" : name)\"\r\n\r\n"
            + MIMEEncoding.base64Lines(image.data)
    }

    static func attachmentPart(_ attachment: Attachment) -> String {
        let type = attachment.contentType.filter { $0.isASCII && ($0.isLetter || $0.isNumber || "/.+-".contains($0)) }
        let filename = MIMEEncoding.sanitizeHeaderValue(attachment.filename)
        let parameter: String
        if MIMEEncoding.isPrintableASCII(filename) {
            parameter =
                "filename=\"\(filename.replacingOccurrences(of: "\"", with: "").replacingOccurrences(of: "\\", with: ""))\""
        } else {
            // RFC 2231 for non-ASCII file names.
            let encoded = filename.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "attachment"
            parameter = "filename*=UTF-8''\(encoded)"
        }
        return "Content-Type: \(type.isEmpty ? "application/octet-stream" : type)\r\n"
            + "Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment;\r\n \(parameter)\r\n\r\n"
            + MIMEEncoding.base64Lines(attachment.data)
    }
}
