// Bounces without an RFC 3464 report (their wording only), feedback reports, automatic and
// human replies, and reports written in less common ways.

extension BounceFixtures {
    /// Exim's text bounce, the message quoted after its marker.
    static let eximText = """
        Return-path: <>
        Envelope-to: bounces+job-43@relance.example.com
        From: Mail Delivery System <Mailer-Daemon@mx.relais.example.net>
        To: bounces+job-43@relance.example.com
        Subject: Mail delivery failed: returning message to sender
        Auto-Submitted: auto-replied
        Message-Id: <E1rk7Xy-0004Ab-Cd@mx.relais.example.net>

        This message was created automatically by mail delivery software.

        A message that you sent could not be delivered to one or more of its
        recipients. This is a permanent error. The following address(es) failed:

          Marc.Dubois@Client.Example.FR
            host mx.client.example.fr [192.0.2.27]
            SMTP error from remote mail server after RCPT TO:<Marc.Dubois@client.example.fr>:
            550 5.1.1 <Marc.Dubois@client.example.fr>: Recipient address rejected: User unknown

        ------ This is a copy of the message, including all the headers. ------

        Return-path: <bounces+job-43@relance.example.com>
        From: Acme Facturation <facturation@acme.example.fr>
        To: Marc.Dubois@client.example.fr
        Subject: Relance : facture F-2024-002
        Message-ID: <relance.job-43.1@example.com>
        X-Relance-Job: 43

        Bonjour,

        """

    /// Exim's delay warning (text only).
    static let eximDelayText = """
        Return-path: <>
        From: Mail Delivery System <Mailer-Daemon@mx.relais.example.net>
        To: bounces+job-56@relance.example.com
        Subject: Warning: message 1rk7Xy-0004Ab-Cd delayed 24 hours
        Auto-Submitted: auto-replied

        This message was created automatically by mail delivery software.
        A message that you sent has not yet been delivered to one or more of its
        recipients after more than 24 hours on the queue on mx.relais.example.net.

        The message identifier is:     1rk7Xy-0004Ab-Cd
        The subject of the message is: Relance
        The date of the message is:    Tue, 12 Mar 2024 10:15:00 +0100

        The address to which the message has not yet been delivered is:

          emma.blanc@lent.example.fr
            host mx.lent.example.fr [192.0.2.61]
            Delay reason: SMTP error from remote mail server after RCPT TO:<emma.blanc@lent.example.fr>:
            451 4.7.1 Greylisted, please try again later

        No action is required on your part. Delivery attempts will continue for
        some time, and this warning may be repeated at intervals if the message
        remains undelivered. Eventually the mail delivery software will give up,
        and when that happens, the message will be returned to you.

        """

    /// qmail's bounce.
    static let qmail = """
        Return-Path: <>
        Delivered-To: bounces+job-44@relance.example.com
        From: MAILER-DAEMON@mx.hebergeur.example.net
        To: bounces+job-44@relance.example.com
        Subject: failure notice

        Hi. This is the qmail-send program at mx.hebergeur.example.net.
        I'm afraid I wasn't able to deliver your message to the following addresses.
        This is a permanent error; I've given up. Sorry it didn't work out.

        <paul.martin@client.example.fr>:
        192.0.2.30 does not like recipient.
        Remote host said: 550 5.1.1 <paul.martin@client.example.fr>... User unknown
        Giving up on 192.0.2.30.

        --- Below this line is a copy of the message.

        Return-Path: <bounces+job-44@relance.example.com>
        From: Acme Facturation <facturation@acme.example.fr>
        To: paul.martin@client.example.fr
        Subject: Relance
        Message-ID: <relance.job-44.1@example.com>
        X-Relance-Job: 44

        Bonjour,

        """

    /// An on-premises Exchange NDR as text (no report part).
    static let exchangeText = """
        From: postmaster@client.example.fr
        To: bounces+job-45@relance.example.com
        Subject: Undeliverable: Relance : facture F-2024-003
        Content-Type: text/plain; charset="us-ascii"
        Content-Transfer-Encoding: 7bit

        Delivery has failed to these recipients or groups:

        claire.petit@client.example.fr (claire.petit@client.example.fr)
        The email address you entered couldn't be found. Please check the recipient's email
        address and try to resend the message. If the problem continues, please contact your
        helpdesk.

        Diagnostic information for administrators:

        Generating server: EXCH01.client.example.fr

        claire.petit@client.example.fr
        #550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##

        Original message headers:

        Received: from mail.relance.example.com (192.0.2.10) by EXCH01.client.example.fr
         (192.0.2.11) with Microsoft SMTP Server id 15.1.2507.35; Tue, 12 Mar 2024 10:15:03 +0100
        From: Acme Facturation <facturation@acme.example.fr>
        To: <claire.petit@client.example.fr>
        Subject: Relance : facture F-2024-003
        Message-ID: <relance.job-45.1@example.com>
        X-Relance-Job: 45

        """

    /// Exchange 2010's text, the reply quoted after "Remote Server returned".
    static let exchange2010Text = """
        From: Microsoft Exchange <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@client.example.fr>
        To: bounces+job-57@relance.example.com
        Subject: Undeliverable: Relance
        Content-Type: text/plain; charset="us-ascii"

        Delivery has failed to these recipients or groups:

        Thomas Girard
        The e-mail address you entered couldn't be found.

        Diagnostic information for administrators:

        Generating server: mx.client.example.fr

        thomas.girard@client.example.fr
        Remote Server returned '550 5.1.1 <thomas.girard@client.example.fr>: Recipient address rejected: User unknown'

        Original message headers:

        Message-ID: <relance.job-57.1@example.com>
        X-Relance-Job: 57

        """

    /// Gmail's older text bounce.
    static let gmailText = """
        Delivered-To: bounces+job-46@relance.example.com
        Return-Path: <>
        From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
        To: bounces+job-46@relance.example.com
        Subject: Delivery Status Notification (Failure)
        Content-Type: text/plain; charset=ISO-8859-1

        Delivery to the following recipient failed permanently:

             lucas.bernard@client.example.fr

        Technical details of permanent failure:
        Google tried to deliver your message, but it was rejected by the server for the recipient
        domain client.example.fr by mx.client.example.fr. [192.0.2.40].

        The error that the other server returned was:
        550-5.1.1 The email account that you tried to reach does not exist. Please try
        550-5.1.1 double-checking the recipient's email address for typos or
        550 5.1.1 unnecessary spaces. https://support.google.com/mail/?p=NoSuchUser

        ----- Original message -----

        DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=relance.example.com; s=s1;
         h=from:to:subject:message-id; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;
         b=dGVzdA==
        From: Acme Facturation <facturation@acme.example.fr>
        To: lucas.bernard@client.example.fr
        Subject: Relance
        Message-ID: <relance.job-46.1@example.com>
        X-Relance-Job: 46

        """

    /// Gmail's newer wording, the address inside the sentence.
    static let gmailNewText = """
        From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
        To: bounces+job-58@relance.example.com
        Subject: Delivery Status Notification (Failure)
        Content-Type: text/plain; charset="UTF-8"

        ** Address not found **

        Your message wasn't delivered to ines.roche@client.example.fr because the address
        couldn't be found, or is unable to receive mail.

        The response was:

        The email account that you tried to reach does not exist. Please try double-checking
        the recipient's email address for typos or unnecessary spaces.

        """

    /// Postfix's notice alone (a relay that dropped the report part).
    static let postfixText = """
        Return-Path: <>
        From: MAILER-DAEMON@mx.relais.example.net (Mail Delivery System)
        To: bounces+job-59@relance.example.com
        Subject: Undelivered Mail Returned to Sender
        Content-Type: text/plain; charset=us-ascii

        This is the mail system at host mx.relais.example.net.

        I'm sorry to have to inform you that your message could not
        be delivered to one or more recipients. It's attached below.

                           The mail system

        <julie.noel@client.example.fr>: host mx.client.example.fr[192.0.2.28] said:
            550 5.2.1 <julie.noel@client.example.fr>: Mailbox disabled (in reply to RCPT TO
            command)

        <remi.faure@client.example.fr>: host mx.client.example.fr[192.0.2.28] said:
            552 5.2.2 <remi.faure@client.example.fr>: Mailbox full (in reply to RCPT TO
            command)

        """

    /// An ARF abuse report as Yahoo's and AOL's feedback loops send them.
    static let arfAbuse = """
        From: feedback@arf.mail.yahoo.example
        To: fbl@relance.example.com
        Subject: FW: Relance : facture F-2024-004
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=feedback-report;
        \tboundary="----=_Part_1234_5678.1710235000"

        ------=_Part_1234_5678.1710235000
        Content-Type: text/plain; charset=us-ascii
        Content-Transfer-Encoding: 7bit

        This is an email abuse report for an email message received from IP 203.0.113.5 on
        Tue, 12 Mar 2024 10:20:00 +0000.

        ------=_Part_1234_5678.1710235000
        Content-Type: message/feedback-report

        Feedback-Type: abuse
        User-Agent: Yahoo!-Mail-Feedback/2.0
        Version: 1
        Original-Mail-From: <bounces+job-47@relance.example.com>
        Original-Rcpt-To: <Sophie.Leroy@Yahoo.Example>
        Received-Date: Tue, 12 Mar 2024 10:20:00 +0000
        Source-IP: 203.0.113.5
        Reported-Domain: relance.example.com

        ------=_Part_1234_5678.1710235000
        Content-Type: message/rfc822
        Content-Disposition: inline

        From: Acme Facturation <facturation@acme.example.fr>
        To: sophie.leroy@yahoo.example
        Subject: Relance : facture F-2024-004
        Message-ID: <relance.job-47.1@example.com>
        X-Relance-Job: 47

        Bonjour,

        ------=_Part_1234_5678.1710235000--

        """

    /// An ARF report without Original-Rcpt-To (Outlook.com's JMRP style): the returned
    /// message's To names the complainer.
    static let arfWithoutRecipient = """
        From: staff@hotmail.example
        To: fbl@relance.example.com
        Subject: complaint about message from 203.0.113.5
        Content-Type: multipart/report; report-type=feedback-report; boundary="jmrp"

        --jmrp
        Content-Type: text/plain

        This is a Junk Mail Reporting Program report.

        --jmrp
        Content-Type: message/feedback-report

        Feedback-Type: abuse
        User-Agent: JMRPP/0.1
        Version: 1

        --jmrp
        Content-Type: message/rfc822

        From: Acme Facturation <facturation@acme.example.fr>
        To: "Durand, Alice" <alice.durand@hotmail.example>
        Subject: Relance
        Message-ID: <relance.job-60.1@example.com>
        X-Relance-Job: 60

        --jmrp--

        """

    /// An ARF not-spam report: a reader took the message out of their junk folder.
    static let arfNotSpam = arfAbuse.replacingOccurrences(of: "Feedback-Type: abuse", with: "Feedback-Type: not-spam")

    /// An RFC 3834 vacation reply.
    static let autoReply = """
        Return-Path: <>
        From: Marie Curie <marie.curie@client.example.fr>
        To: Acme Facturation <facturation@acme.example.fr>
        Subject: Absente : Relance : facture F-2024-005
        Auto-Submitted: auto-replied (vacation)
        In-Reply-To: <relance.job-48.1@example.com>
        References: <relance.job-48.1@example.com>
        Content-Type: text/plain; charset=utf-8

        Bonjour, je suis absente jusqu'au 20 mars.

        """

    /// Outlook's French out-of-office reply: no Auto-Submitted, only its subject.
    static let outOfOfficeFrench = """
        From: Bruno Lefebvre <bruno.lefebvre@client.example.fr>
        To: Acme Facturation <facturation@acme.example.fr>
        Subject: =?iso-8859-1?Q?R=E9ponse_automatique=A0:_Relance_:_facture_F-2024-006?=
        X-Auto-Response-Suppress: All
        In-Reply-To: <relance.job-49.1@example.com>
        Content-Type: text/plain; charset="iso-8859-1"
        Content-Transfer-Encoding: quoted-printable

        Je suis en cong=E9s jusqu'au 25 mars.

        """

    /// A person's answer: nothing automatic about it, though it quotes a bounce's words.
    static let humanReply = """
        From: Alain Mercier <alain.mercier@client.example.fr>
        To: Acme Facturation <facturation@acme.example.fr>
        Subject: Re: Relance : facture F-2024-008
        In-Reply-To: <relance.job-50.1@example.com>
        X-Auto-Response-Suppress: All
        Content-Type: text/plain; charset=utf-8

        Bonjour,

        Je l'ai réglée hier. Votre premier message n'a pas pu être délivré à ma
        collègue : the following address failed: compta@client.example.fr

        Cordialement,
        Alain Mercier

        """

    /// A report whose delivery-status part is base64-encoded.
    static let base64DeliveryStatus = """
        Return-Path: <>
        From: Mail Delivery System <MAILER-DAEMON@mx.relance.example.com>
        To: bounces+job-61@relance.example.com
        Subject: Returned mail
        Content-Type: multipart/report; report-type="delivery-status"; boundary="b64"

        --b64
        Content-Type: text/plain

        Delivery failed.

        --b64
        Content-Type: message/delivery-status
        Content-Transfer-Encoding: base64

        UmVwb3J0aW5nLU1UQTogZG5zOyBteC5yZWxhbmNlLmV4YW1wbGUuY29tDQoNCkZpbmFsLVJlY2lw
        aWVudDogcmZjODIyOyBuaWNvbGFzLnJvdXhAY2xpZW50LmV4YW1wbGUuZnINCkFjdGlvbjogZmFp
        bGVkDQpTdGF0dXM6IDUuMi4xDQpEaWFnbm9zdGljLUNvZGU6IHNtdHA7IDU1MCA1LjIuMSBUaGUg
        ZW1haWwgYWNjb3VudCB0aGF0IHlvdSB0cmllZCB0byByZWFjaCBpcyBkaXNhYmxlZA0K

        --b64--

        """

    /// Folded fields, comments, a line of spaces between blocks, upper-case types.
    static let foldedFields = """
        Return-Path: <>
        From: MAILER-DAEMON@mx.relance.example.com
        To: bounces+job-62@relance.example.com
        Subject: Undelivered Mail Returned to Sender
        Content-Type: MULTIPART/REPORT;
         REPORT-TYPE=DELIVERY-STATUS;
         BOUNDARY="folded (not a comment)"

        --folded (not a comment)
        Content-Type: Message/Delivery-Status

        Reporting-MTA: dns;
         mx.relance.example.com
        \u{20}\u{20}
        Final-Recipient:
         RFC822;
        \tOlivier.Gauthier@CLIENT.example.fr
        Action: Failed (permanent)
        Status:
         5.1.1 (bad destination mailbox address)
        Diagnostic-Code: SMTP; 550 5.1.1 <Olivier.Gauthier@client.example.fr>:
        \tRecipient address rejected:
        \tUser unknown

        --folded (not a comment)--

        """

    /// One recipient failed, another is delayed.
    static let multiRecipient = """
        Return-Path: <>
        From: MAILER-DAEMON@mail.relance.example.com (Mail Delivery System)
        To: bounces+job-63@relance.example.com
        Subject: Undelivered Mail Returned to Sender
        Content-Type: multipart/report; report-type=delivery-status; boundary="mr"

        --mr
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mail.relance.example.com

        Final-Recipient: rfc822; victor.henry@client.example.fr
        Action: failed
        Status: 5.2.1
        Diagnostic-Code: smtp; 550 5.2.1 Mailbox disabled for this recipient

        Final-Recipient: rfc822; zoe.masson@plein.example.fr
        Action: delayed
        Status: 4.2.2
        Diagnostic-Code: smtp; 452 4.2.2 Mailbox full

        --mr--

        """
}
