// Bounces, complaints and replies as the MTAs and mailbox providers write them, written for
// these tests (addresses and hosts are examples). Each is one raw message; `bytes` gives it
// CRLF line ends, as an MTA hands it to a pipe or over LMTP, unless LF is asked for.

enum BounceFixtures {
    static func bytes(_ text: String, lineEnd: String = "\r\n") -> [UInt8] {
        Array(text.replacingOccurrences(of: "\n", with: lineEnd).utf8)
    }

    /// The message Relance sent, as it comes back inside a report.
    static let returnedMessage = """
        Return-Path: <bounces+job-42@relance.example.com>
        Received: from localhost (localhost [127.0.0.1])
        \tby mail.relance.example.com (Postfix) with ESMTP id 3F2A1C0042
        \tfor <jean.dupont@client.example.fr>; Tue, 12 Mar 2024 10:15:00 +0100 (CET)
        Date: Tue, 12 Mar 2024 10:15:00 +0100
        From: Acme Facturation <facturation@acme.example.fr>
        To: Jean Dupont <jean.dupont@client.example.fr>
        Subject: =?UTF-8?Q?Rappel_:_facture_F-2024-001_=C3=A0_r=C3=A9gler?=
        Message-ID: <relance.job-42.1@example.com>
        X-Relance-Job: 42
        MIME-Version: 1.0
        Content-Type: text/plain; charset=utf-8
        Content-Transfer-Encoding: 8bit

        Bonjour,

        Sauf erreur de notre part, la facture F-2024-001 reste à régler.
        """

    /// Postfix: a 5.1.1 bounce with the whole message returned (message/rfc822).
    static let postfixDSN = """
        Return-Path: <>
        Delivered-To: bounces+job-42@relance.example.com
        Received: by mail.relance.example.com (Postfix)
        \tid 7B1D2C0051; Tue, 12 Mar 2024 10:15:02 +0100 (CET)
        Date: Tue, 12 Mar 2024 10:15:02 +0100 (CET)
        From: MAILER-DAEMON@mail.relance.example.com (Mail Delivery System)
        Subject: Undelivered Mail Returned to Sender
        To: bounces+job-42@relance.example.com
        Auto-Submitted: auto-replied
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status;
        \tboundary="7B1D2C0051.1710234902/mail.relance.example.com"
        Content-Transfer-Encoding: 8bit
        Message-Id: <20240312091502.7B1D2C0051@mail.relance.example.com>

        This is a MIME-encapsulated message.

        --7B1D2C0051.1710234902/mail.relance.example.com
        Content-Description: Notification
        Content-Type: text/plain; charset=utf-8
        Content-Transfer-Encoding: 8bit

        This is the mail system at host mail.relance.example.com.

        I'm sorry to have to inform you that your message could not
        be delivered to one or more recipients. It's attached below.

        For further assistance, please send mail to postmaster.

        If you do so, please include this problem report. You can
        delete your own text from the attached returned message.

                           The mail system

        <jean.dupont@client.example.fr>: host mx1.client.example.fr[192.0.2.25] said:
            550 5.1.1 <jean.dupont@client.example.fr>: Recipient address rejected:
            User unknown in virtual mailbox table (in reply to RCPT TO command)

        --7B1D2C0051.1710234902/mail.relance.example.com
        Content-Description: Delivery report
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mail.relance.example.com
        X-Postfix-Queue-ID: 7B1D2C0051
        X-Postfix-Sender: rfc822; bounces+job-42@relance.example.com
        Arrival-Date: Tue, 12 Mar 2024 10:15:01 +0100 (CET)

        Final-Recipient: rfc822; jean.dupont@client.example.fr
        Original-Recipient: rfc822;jean.dupont@client.example.fr
        Action: failed
        Status: 5.1.1
        Remote-MTA: dns; mx1.client.example.fr
        Diagnostic-Code: smtp; 550 5.1.1 <jean.dupont@client.example.fr>: Recipient
            address rejected: User unknown in virtual mailbox table

        --7B1D2C0051.1710234902/mail.relance.example.com
        Content-Description: Undelivered Message
        Content-Type: message/rfc822
        Content-Transfer-Encoding: 8bit

        \(returnedMessage)

        --7B1D2C0051.1710234902/mail.relance.example.com--

        """

    /// Postfix returning only the header (text/rfc822-headers); Status only gives the class,
    /// the server's reply the detail.
    static let postfixHeadersOnly = """
        Return-Path: <>
        From: MAILER-DAEMON@mail.relance.example.com (Mail Delivery System)
        Subject: Undelivered Mail Returned to Sender
        To: bounces+job-42@relance.example.com
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status;
        \tboundary="9C0E1A2B3C.1710235000/mail.relance.example.com"

        --9C0E1A2B3C.1710235000/mail.relance.example.com
        Content-Description: Notification
        Content-Type: text/plain; charset=us-ascii

        This is the mail system at host mail.relance.example.com.

        <anne.moreau@client.example.fr>: host mx.client.example.fr[192.0.2.26] said:
            554 5.7.1 <anne.moreau@client.example.fr>: Relay access denied (in reply to
            RCPT TO command)

        --9C0E1A2B3C.1710235000/mail.relance.example.com
        Content-Description: Delivery report
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mail.relance.example.com

        Final-Recipient: rfc822; anne.moreau@client.example.fr
        Action: failed
        Status: 5.0.0
        Remote-MTA: dns; mx.client.example.fr
        Diagnostic-Code: smtp; 554 5.7.1 <anne.moreau@client.example.fr>: Relay access
            denied

        --9C0E1A2B3C.1710235000/mail.relance.example.com
        Content-Description: Undelivered Message Headers
        Content-Type: text/rfc822-headers

        Return-Path: <bounces+job-51@relance.example.com>
        From: Acme Facturation <facturation@acme.example.fr>
        To: anne.moreau@client.example.fr
        Subject: Relance : facture F-2024-007
        Message-ID: <relance.job-51.1@example.com>
        X-Relance-Job: 51

        --9C0E1A2B3C.1710235000/mail.relance.example.com--

        """

    /// Postfix's delay warning for two recipients (notify_classes with delay).
    static let postfixDelayed = """
        Return-Path: <>
        From: MAILER-DAEMON@mail.relance.example.com (Mail Delivery System)
        Subject: Delayed Mail (still being retried)
        To: bounces+job-52@relance.example.com
        Auto-Submitted: auto-replied
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status;
        \tboundary="1A2B3C4D5E.1710250000/mail.relance.example.com"

        --1A2B3C4D5E.1710250000/mail.relance.example.com
        Content-Description: Notification
        Content-Type: text/plain; charset=us-ascii

        This is the mail system at host mail.relance.example.com.

        ####################################################################
        # THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #
        ####################################################################

        Your message could not be delivered for more than 4 hour(s).
        It will be retried until it is 5 day(s) old.

        --1A2B3C4D5E.1710250000/mail.relance.example.com
        Content-Description: Delivery report
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mail.relance.example.com
        Arrival-Date: Tue, 12 Mar 2024 10:15:01 +0100 (CET)

        Final-Recipient: rfc822; luc.fabre@lent.example.fr
        Action: delayed
        Status: 4.4.1
        Diagnostic-Code: X-Postfix; connect to mx.lent.example.fr[192.0.2.60]:25:
            Connection timed out
        Will-Retry-Until: Sun, 17 Mar 2024 10:15:01 +0100 (CET)

        Final-Recipient: rfc822; lea.garnier@plein.example.fr
        Action: delayed
        Status: 4.2.2
        Remote-MTA: dns; mx.plein.example.fr
        Diagnostic-Code: smtp; 452 4.2.2 <lea.garnier@plein.example.fr>: Mailbox full
        Will-Retry-Until: Sun, 17 Mar 2024 10:15:01 +0100 (CET)

        --1A2B3C4D5E.1710250000/mail.relance.example.com
        Content-Description: Undelivered Message Headers
        Content-Type: text/rfc822-headers

        From: Acme Facturation <facturation@acme.example.fr>
        To: luc.fabre@lent.example.fr, lea.garnier@plein.example.fr
        Subject: Relance
        Message-ID: <relance.job-52.1@example.com>
        X-Relance-Job: 52

        --1A2B3C4D5E.1710250000/mail.relance.example.com--

        """

    /// A success notice (NOTIFY=SUCCESS): not a bounce.
    static let successDSN = """
        Return-Path: <>
        From: MAILER-DAEMON@mail.relance.example.com (Mail Delivery System)
        Subject: Successful Mail Delivery Report
        To: bounces+job-53@relance.example.com
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status; boundary="S1"

        --S1
        Content-Type: text/plain

        Your message was successfully delivered to the destination(s) listed below.

        <paul.simon@client.example.fr>: delivery via mx.client.example.fr[192.0.2.25]:25:
            250 2.0.0 Ok: queued as 4F2A1C

        --S1
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mail.relance.example.com

        Final-Recipient: rfc822; paul.simon@client.example.fr
        Action: delivered
        Status: 2.0.0
        Remote-MTA: dns; mx.client.example.fr
        Diagnostic-Code: smtp; 250 2.0.0 Ok: queued as 4F2A1C

        --S1--

        """

    /// Exim's RFC 3464 form (when the sender asked for a DSN): Status 5.0.0, the detail in
    /// the diagnostic.
    static let eximDSN = """
        Return-path: <>
        From: Mail Delivery System <Mailer-Daemon@mx.relais.example.net>
        To: bounces+job-54@relance.example.com
        Subject: Mail delivery failed: returning message to sender
        Auto-Submitted: auto-replied
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status; boundary=1710236000-eximdsn-1804289383

        --1710236000-eximdsn-1804289383
        Content-type: text/plain; charset=us-ascii

        This message was created automatically by mail delivery software.

        A message that you sent could not be delivered to one or more of its
        recipients. This is a permanent error. The following address(es) failed:

          hugo.lambert@client.example.fr
            host mx.client.example.fr [192.0.2.27]
            SMTP error from remote mail server after RCPT TO:<hugo.lambert@client.example.fr>:
            550 5.1.1 <hugo.lambert@client.example.fr>... User unknown

        --1710236000-eximdsn-1804289383
        Content-type: message/delivery-status

        Reporting-MTA: dns; mx.relais.example.net

        Action: failed
        Final-Recipient: rfc822;hugo.lambert@client.example.fr
        Status: 5.0.0
        Remote-MTA: dns; mx.client.example.fr
        Diagnostic-Code: smtp; 550 5.1.1 <hugo.lambert@client.example.fr>... User unknown

        --1710236000-eximdsn-1804289383
        Content-type: text/rfc822-headers

        From: Acme Facturation <facturation@acme.example.fr>
        To: hugo.lambert@client.example.fr
        Subject: Relance
        Message-ID: <relance.job-54.1@example.com>
        X-Relance-Job: 54

        --1710236000-eximdsn-1804289383--

        """

    /// Exchange Online: its RFC 3464 report (5.1.10, RESOLVER.ADR.RecipientNotFound).
    static let exchangeDSN = """
        From: Microsoft Outlook <MAILER-DAEMON@EUR01-AM0-obe.outbound.protection.outlook.com>
        To: <bounces+job-55@relance.example.com>
        Date: Tue, 12 Mar 2024 09:20:12 +0000
        Content-Type: multipart/report; report-type=delivery-status;
        \tboundary="8b6d5e40-9d1c-4b0a-a1f2-2c3d4e5f6a7b"
        X-MS-Exchange-Message-Is-Ndr:
        Content-Language: fr-FR
        Message-ID: <4f2a1c3b-0000-0000-0000-000000000000@AM0PR01MB1234.eurprd01.prod.exchangelabs.com>
        In-Reply-To: <relance.job-55.1@example.com>
        Subject: Non remis : Relance : facture F-2024-009
        Auto-Submitted: auto-replied
        MIME-Version: 1.0

        --8b6d5e40-9d1c-4b0a-a1f2-2c3d4e5f6a7b
        Content-Type: multipart/alternative; differences=Content-Type;
        \tboundary="c0ffee00-1111-2222-3333-444455556666"

        --c0ffee00-1111-2222-3333-444455556666
        Content-Type: text/plain; charset="utf-8"
        Content-Transfer-Encoding: quoted-printable

        Votre message n'a pas pu =C3=AAtre remis =C3=A0 claire.petit@client.example.=
        fr, car l'adresse est introuvable.

        --c0ffee00-1111-2222-3333-444455556666
        Content-Type: text/html; charset="utf-8"

        <html><body><p>Votre message n'a pas pu être remis.</p></body></html>

        --c0ffee00-1111-2222-3333-444455556666--

        --8b6d5e40-9d1c-4b0a-a1f2-2c3d4e5f6a7b
        Content-Type: message/delivery-status

        Reporting-MTA: dns;AM0PR01MB1234.eurprd01.prod.exchangelabs.com
        Received-From-MTA: dns;AM0PR01MB5678.eurprd01.prod.exchangelabs.com
        Arrival-Date: Tue, 12 Mar 2024 09:20:11 +0000

        Original-Recipient: rfc822;claire.petit@client.example.fr
        Final-Recipient: rfc822;claire.petit@client.example.fr
        Action: failed
        Status: 5.1.10
        Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient
         claire.petit@client.example.fr not found by SMTP address lookup

        --8b6d5e40-9d1c-4b0a-a1f2-2c3d4e5f6a7b
        Content-Type: message/rfc822

        From: Acme Facturation <facturation@acme.example.fr>
        To: claire.petit@client.example.fr
        Subject: Relance : facture F-2024-009
        Message-ID: <relance.job-55.1@example.com>
        X-Relance-Job: 55

        Bonjour,

        --8b6d5e40-9d1c-4b0a-a1f2-2c3d4e5f6a7b--

        """
}
