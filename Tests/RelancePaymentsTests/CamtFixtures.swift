/// Sample camt documents, in the shapes banks send: a statement and a notification in
/// versions 001.02 and 001.08, the same seven movements in each.
enum CamtFixtures {
    static let creditorIBAN = "FR7630006000011234567890189"

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    static func bankTransactionCode(_ family: String = "RCDT", _ sub: String = "ESCT") -> String {
        "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>\(family)</Cd><SubFmlyCd>\(sub)</SubFmlyCd></Fmly></Domn></BkTxCd>"
    }

    // MARK: camt.053.001.02

    static func statement02(_ entries: String, id: String = "STMT-2026-061", account: String? = nil) -> String {
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
          <BkToCstmrStmt>
            <GrpHdr>
              <MsgId>MSG-2026-03-02</MsgId>
              <CreDtTm>2026-03-02T06:00:00</CreDtTm>
            </GrpHdr>
            <Stmt>
              <Id>\(id)</Id>
              <ElctrncSeqNb>61</ElctrncSeqNb>
              <CreDtTm>2026-03-02T06:00:00+01:00</CreDtTm>
              <Acct>
                \(account ?? "<Id><IBAN>\(creditorIBAN)</IBAN></Id>")
                <Ccy>EUR</Ccy>
              </Acct>
              <Bal>
                <Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp>
                <Amt Ccy="EUR">1000.00</Amt>
                <CdtDbtInd>CRDT</CdtDbtInd>
                <Dt><Dt>2026-03-01</Dt></Dt>
              </Bal>
        \(entries)
            </Stmt>
          </BkToCstmrStmt>
        </Document>
        """
    }

    /// 1: a credit with the bank's reference, dates as Dt, two unstructured lines.
    static let single02 = """
              <Ntry>
                <NtryRef>1</NtryRef>
                <Amt Ccy="EUR">120.50</Amt>
                <CdtDbtInd>CRDT</CdtDbtInd>
                <Sts>BOOK</Sts>
                <BookgDt><Dt>2026-03-01</Dt></BookgDt>
                <ValDt><Dt>2026-03-02</Dt></ValDt>
                <AcctSvcrRef>BANKREF-0001</AcctSvcrRef>
                \(bankTransactionCode())
                <NtryDtls>
                  <TxDtls>
                    <Refs><EndToEndId>E2E-F2026-0042</EndToEndId></Refs>
                    <AmtDtls><TxAmt><Amt Ccy="EUR">120.50</Amt></TxAmt></AmtDtls>
                    <RltdPties>
                      <Dbtr><Nm>Jean Dupont &amp; Fils</Nm></Dbtr>
                      <DbtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></DbtrAcct>
                    </RltdPties>
                    <RmtInf><Ustrd>Facture F-2026-0042</Ustrd><Ustrd>  merci  </Ustrd></RmtInf>
                  </TxDtls>
                </NtryDtls>
              </Ntry>
        """

    /// 2: a batch of three transfers booked as one entry, the entry's reference only.
    static let batch02 = """
              <Ntry>
                <Amt Ccy="EUR">60.00</Amt>
                <CdtDbtInd>CRDT</CdtDbtInd>
                <Sts>BOOK</Sts>
                <BookgDt><Dt>2026-03-01</Dt></BookgDt>
                <ValDt><Dt>2026-03-01</Dt></ValDt>
                <AcctSvcrRef>BATCH-77</AcctSvcrRef>
                \(bankTransactionCode())
                <NtryDtls>
                  <Btch><NbOfTxs>3</NbOfTxs></Btch>
                  <TxDtls>
                    <Refs><EndToEndId>B-1</EndToEndId></Refs>
                    <AmtDtls><TxAmt><Amt Ccy="EUR">10.00</Amt></TxAmt></AmtDtls>
                    <RltdPties><Dbtr><Nm>Alice</Nm></Dbtr></RltdPties>
                    <RmtInf><Ustrd>F-1</Ustrd></RmtInf>
                  </TxDtls>
                  <TxDtls>
                    <Refs><EndToEndId>B-2</EndToEndId></Refs>
                    <AmtDtls><TxAmt><Amt Ccy="EUR">20.00</Amt></TxAmt></AmtDtls>
                    <RltdPties><Dbtr><Nm>Bob</Nm></Dbtr></RltdPties>
                    <RmtInf><Ustrd>F-2</Ustrd></RmtInf>
                  </TxDtls>
                  <TxDtls>
                    <Refs><EndToEndId>B-3</EndToEndId></Refs>
                    <AmtDtls><TxAmt><Amt Ccy="EUR">30.00</Amt></TxAmt></AmtDtls>
                    <RltdPties><Dbtr><Nm>Carol</Nm></Dbtr></RltdPties>
                    <RmtInf><Ustrd>F-3</Ustrd></RmtInf>
                  </TxDtls>
                </NtryDtls>
              </Ntry>
        """

    /// 3: a debit (a direct debit the creditor pays), no details.
    static let debit02 = """
              <Ntry>
                <Amt Ccy="EUR">15.99</Amt>
                <CdtDbtInd>DBIT</CdtDbtInd>
                <Sts>BOOK</Sts>
                <BookgDt><Dt>2026-03-01</Dt></BookgDt>
                <ValDt><Dt>2026-03-01</Dt></ValDt>
                <AcctSvcrRef>BANKREF-0003</AcctSvcrRef>
                \(bankTransactionCode("IDDT", "ESDD"))
              </Ntry>
        """

    /// 4: a reversal of an earlier credit.
    static let reversal02 = """
              <Ntry>
                <Amt Ccy="EUR">120.50</Amt>
                <CdtDbtInd>DBIT</CdtDbtInd>
                <RvslInd>true</RvslInd>
                <Sts>BOOK</Sts>
                <BookgDt><Dt>2026-03-01</Dt></BookgDt>
                <ValDt><Dt>2026-03-01</Dt></ValDt>
                <AcctSvcrRef>BANKREF-0004</AcctSvcrRef>
                \(bankTransactionCode())
              </Ntry>
        """

    /// 5: a credit in US dollars, the transaction's own reference.
    static let foreign02 = """
              <Ntry>
                <Amt Ccy="USD">99.9</Amt>
                <CdtDbtInd>CRDT</CdtDbtInd>
                <Sts>BOOK</Sts>
                <BookgDt><Dt>2026-03-01</Dt></BookgDt>
                <ValDt><Dt>2026-03-03</Dt></ValDt>
                \(bankTransactionCode("ICDT", "XBCT"))
                <NtryDtls>
                  <TxDtls>
                    <Refs><AcctSvcrRef>TX-USD-5</AcctSvcrRef><EndToEndId>US-INV-5</EndToEndId></Refs>
                    <RltdPties><Dbtr><Nm>ACME Corp.</Nm></Dbtr></RltdPties>
                    <RmtInf><Ustrd>INV 5</Ustrd></RmtInf>
                  </TxDtls>
                </NtryDtls>
              </Ntry>
        """

    /// 6: NOTPROVIDED end-to-end id, a structured RF creditor reference.
    static let structured02 = """
              <Ntry>
                <Amt Ccy="EUR">42.00</Amt>
                <CdtDbtInd>CRDT</CdtDbtInd>
                <Sts>BOOK</Sts>
                <BookgDt><Dt>2026-03-01</Dt></BookgDt>
                <ValDt><Dt>2026-03-01</Dt></ValDt>
                <AcctSvcrRef>BANKREF-0006</AcctSvcrRef>
                \(bankTransactionCode())
                <NtryDtls>
                  <TxDtls>
                    <Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
                    <RltdPties>
                      <Dbtr><Nm>Émilie Müller</Nm></Dbtr>
                      <DbtrAcct><Id><IBAN>BE68539007547034</IBAN></Id></DbtrAcct>
                    </RltdPties>
                    <RmtInf>
                      <Strd>
                        <CdtrRefInf>
                          <Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry><Issr>ISO</Issr></Tp>
                          <Ref>RF18539007547034</Ref>
                        </CdtrRefInf>
                      </Strd>
                    </RmtInf>
                  </TxDtls>
                </NtryDtls>
              </Ntry>
        """

    /// 7: dates as DtTm, no bank reference at all (the id is a digest), pending.
    static let dateTime02 = """
              <Ntry>
                <Amt Ccy="EUR">7.00</Amt>
                <CdtDbtInd>CRDT</CdtDbtInd>
                <Sts>PDNG</Sts>
                <BookgDt><DtTm>2026-03-01T23:59:59.123+01:00</DtTm></BookgDt>
                <ValDt><DtTm>2026-03-02T00:00:00Z</DtTm></ValDt>
                \(bankTransactionCode())
                <NtryDtls>
                  <TxDtls>
                    <Refs><EndToEndId>E2E-7</EndToEndId></Refs>
                    <RmtInf><Ustrd>F-7</Ustrd></RmtInf>
                  </TxDtls>
                </NtryDtls>
              </Ntry>
        """

    static let full02 = statement02(
        [single02, batch02, debit02, reversal02, foreign02, structured02, dateTime02].joined(separator: "\n"))

    // MARK: version 001.08 (statement and notification)

    static func document08(
        _ entries: String, kind: String = "camt.053", id: String = "STMT-2026-061"
    ) -> String {
        let (message, report, balance) =
            kind == "camt.053"
            ? (
                "BkToCstmrStmt", "Stmt",
                """
                <Bal>
                  <Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp>
                  <Amt Ccy="EUR">1000.00</Amt>
                  <CdtDbtInd>CRDT</CdtDbtInd>
                  <Dt><Dt>2026-03-01</Dt></Dt>
                </Bal>
                """
            ) : ("BkToCstmrDbtCdtNtfctn", "Ntfctn", "")
        return """
            <?xml version='1.0' encoding='utf-8'?>
            <!-- exported by the bank's portal -->
            <ns:Document xmlns:ns="urn:iso:std:iso:20022:tech:xsd:\(kind).001.08">
              <ns:\(message)>
                <ns:GrpHdr><ns:MsgId>MSG-08</ns:MsgId><ns:CreDtTm>2026-03-02T06:00:00</ns:CreDtTm></ns:GrpHdr>
                <ns:\(report)>
                  <ns:Id>\(id)</ns:Id>
                  <ns:CreDtTm>2026-03-02T06:00:00.000Z</ns:CreDtTm>
                  <ns:Acct><ns:Id><ns:IBAN>\(creditorIBAN)</ns:IBAN></ns:Id></ns:Acct>
                  \(balance)
            \(entries)
                </ns:\(report)>
              </ns:\(message)>
            </ns:Document>
            """
    }

    /// The movements of `full02`, written as 001.08 has them (Sts/Cd, TxDtls/Amt,
    /// Dbtr/Pty/Nm), with a `ns:` prefix everywhere.
    static let entries08 = """
              <ns:Ntry>
                <ns:Amt Ccy="EUR">120.50</ns:Amt><ns:CdtDbtInd>CRDT</ns:CdtDbtInd>
                <ns:Sts><ns:Cd>BOOK</ns:Cd></ns:Sts>
                <ns:BookgDt><ns:Dt>2026-03-01</ns:Dt></ns:BookgDt><ns:ValDt><ns:Dt>2026-03-02</ns:Dt></ns:ValDt>
                <ns:AcctSvcrRef>BANKREF-0001</ns:AcctSvcrRef>
                <ns:BkTxCd><ns:Domn><ns:Cd>PMNT</ns:Cd><ns:Fmly><ns:Cd>RCDT</ns:Cd><ns:SubFmlyCd>ESCT</ns:SubFmlyCd></ns:Fmly></ns:Domn></ns:BkTxCd>
                <ns:NtryDtls><ns:TxDtls>
                  <ns:Refs><ns:EndToEndId>E2E-F2026-0042</ns:EndToEndId></ns:Refs>
                  <ns:Amt Ccy="EUR">120.50</ns:Amt><ns:CdtDbtInd>CRDT</ns:CdtDbtInd>
                  <ns:RltdPties>
                    <ns:Dbtr><ns:Pty><ns:Nm>Jean Dupont &amp; Fils</ns:Nm></ns:Pty></ns:Dbtr>
                    <ns:DbtrAcct><ns:Id><ns:IBAN>DE89370400440532013000</ns:IBAN></ns:Id></ns:DbtrAcct>
                  </ns:RltdPties>
                  <ns:RmtInf><ns:Ustrd>Facture F-2026-0042</ns:Ustrd><ns:Ustrd><![CDATA[  merci  ]]></ns:Ustrd></ns:RmtInf>
                </ns:TxDtls></ns:NtryDtls>
              </ns:Ntry>
              <ns:Ntry>
                <ns:Amt Ccy="EUR">60.00</ns:Amt><ns:CdtDbtInd>CRDT</ns:CdtDbtInd>
                <ns:Sts><ns:Cd>BOOK</ns:Cd></ns:Sts>
                <ns:BookgDt><ns:Dt>2026-03-01</ns:Dt></ns:BookgDt><ns:ValDt><ns:Dt>2026-03-01</ns:Dt></ns:ValDt>
                <ns:AcctSvcrRef>BATCH-77</ns:AcctSvcrRef>
                <ns:BkTxCd/>
                <ns:NtryDtls>
                  <ns:Btch><ns:NbOfTxs>3</ns:NbOfTxs></ns:Btch>
                  <ns:TxDtls><ns:Refs><ns:EndToEndId>B-1</ns:EndToEndId></ns:Refs><ns:Amt Ccy="EUR">10.00</ns:Amt>
                    <ns:CdtDbtInd>CRDT</ns:CdtDbtInd><ns:RltdPties><ns:Dbtr><ns:Pty><ns:Nm>Alice</ns:Nm></ns:Pty></ns:Dbtr></ns:RltdPties>
                    <ns:RmtInf><ns:Ustrd>F-1</ns:Ustrd></ns:RmtInf></ns:TxDtls>
                  <ns:TxDtls><ns:Refs><ns:EndToEndId>B-2</ns:EndToEndId></ns:Refs><ns:Amt Ccy="EUR">20.00</ns:Amt>
                    <ns:CdtDbtInd>CRDT</ns:CdtDbtInd><ns:RltdPties><ns:Dbtr><ns:Pty><ns:Nm>Bob</ns:Nm></ns:Pty></ns:Dbtr></ns:RltdPties>
                    <ns:RmtInf><ns:Ustrd>F-2</ns:Ustrd></ns:RmtInf></ns:TxDtls>
                  <ns:TxDtls><ns:Refs><ns:EndToEndId>B-3</ns:EndToEndId></ns:Refs><ns:Amt Ccy="EUR">30.00</ns:Amt>
                    <ns:CdtDbtInd>CRDT</ns:CdtDbtInd><ns:RltdPties><ns:Dbtr><ns:Pty><ns:Nm>Carol</ns:Nm></ns:Pty></ns:Dbtr></ns:RltdPties>
                    <ns:RmtInf><ns:Ustrd>F-3</ns:Ustrd></ns:RmtInf></ns:TxDtls>
                </ns:NtryDtls>
              </ns:Ntry>
              <ns:Ntry>
                <ns:Amt Ccy="EUR">15.99</ns:Amt><ns:CdtDbtInd>DBIT</ns:CdtDbtInd>
                <ns:Sts><ns:Cd>BOOK</ns:Cd></ns:Sts>
                <ns:BookgDt><ns:Dt>2026-03-01</ns:Dt></ns:BookgDt><ns:ValDt><ns:Dt>2026-03-01</ns:Dt></ns:ValDt>
                <ns:AcctSvcrRef>BANKREF-0003</ns:AcctSvcrRef><ns:BkTxCd/>
              </ns:Ntry>
              <ns:Ntry>
                <ns:Amt Ccy="EUR">120.50</ns:Amt><ns:CdtDbtInd>DBIT</ns:CdtDbtInd><ns:RvslInd>true</ns:RvslInd>
                <ns:Sts><ns:Cd>BOOK</ns:Cd></ns:Sts>
                <ns:BookgDt><ns:Dt>2026-03-01</ns:Dt></ns:BookgDt><ns:ValDt><ns:Dt>2026-03-01</ns:Dt></ns:ValDt>
                <ns:AcctSvcrRef>BANKREF-0004</ns:AcctSvcrRef><ns:BkTxCd/>
              </ns:Ntry>
              <ns:Ntry>
                <ns:Amt Ccy="USD">99.9</ns:Amt><ns:CdtDbtInd>CRDT</ns:CdtDbtInd>
                <ns:Sts><ns:Cd>BOOK</ns:Cd></ns:Sts>
                <ns:BookgDt><ns:Dt>2026-03-01</ns:Dt></ns:BookgDt><ns:ValDt><ns:Dt>2026-03-03</ns:Dt></ns:ValDt>
                <ns:BkTxCd/>
                <ns:NtryDtls><ns:TxDtls>
                  <ns:Refs><ns:AcctSvcrRef>TX-USD-5</ns:AcctSvcrRef><ns:EndToEndId>US-INV-5</ns:EndToEndId></ns:Refs>
                  <ns:RltdPties><ns:Dbtr><ns:Pty><ns:Nm>ACME Corp.</ns:Nm></ns:Pty></ns:Dbtr></ns:RltdPties>
                  <ns:RmtInf><ns:Ustrd>INV 5</ns:Ustrd></ns:RmtInf>
                </ns:TxDtls></ns:NtryDtls>
              </ns:Ntry>
              <ns:Ntry>
                <ns:Amt Ccy="EUR">42.00</ns:Amt><ns:CdtDbtInd>CRDT</ns:CdtDbtInd>
                <ns:Sts><ns:Cd>BOOK</ns:Cd></ns:Sts>
                <ns:BookgDt><ns:Dt>2026-03-01</ns:Dt></ns:BookgDt><ns:ValDt><ns:Dt>2026-03-01</ns:Dt></ns:ValDt>
                <ns:AcctSvcrRef>BANKREF-0006</ns:AcctSvcrRef><ns:BkTxCd/>
                <ns:NtryDtls><ns:TxDtls>
                  <ns:Refs><ns:EndToEndId>NOTPROVIDED</ns:EndToEndId></ns:Refs>
                  <ns:Amt Ccy="EUR">42.00</ns:Amt><ns:CdtDbtInd>CRDT</ns:CdtDbtInd>
                  <ns:RltdPties>
                    <ns:Dbtr><ns:Pty><ns:Nm>&#xC9;milie M&#252;ller</ns:Nm></ns:Pty></ns:Dbtr>
                    <ns:DbtrAcct><ns:Id><ns:IBAN>BE68539007547034</ns:IBAN></ns:Id></ns:DbtrAcct>
                  </ns:RltdPties>
                  <ns:RmtInf><ns:Strd><ns:CdtrRefInf>
                    <ns:Tp><ns:CdOrPrtry><ns:Cd>SCOR</ns:Cd></ns:CdOrPrtry><ns:Issr>ISO</ns:Issr></ns:Tp>
                    <ns:Ref>RF18539007547034</ns:Ref>
                  </ns:CdtrRefInf></ns:Strd></ns:RmtInf>
                </ns:TxDtls></ns:NtryDtls>
              </ns:Ntry>
              <ns:Ntry>
                <ns:Amt Ccy="EUR">7.00</ns:Amt><ns:CdtDbtInd>CRDT</ns:CdtDbtInd>
                <ns:Sts><ns:Cd>PDNG</ns:Cd></ns:Sts>
                <ns:BookgDt><ns:DtTm>2026-03-01T23:59:59.123+01:00</ns:DtTm></ns:BookgDt>
                <ns:ValDt><ns:DtTm>2026-03-02T00:00:00Z</ns:DtTm></ns:ValDt>
                <ns:BkTxCd/>
                <ns:NtryDtls><ns:TxDtls>
                  <ns:Refs><ns:EndToEndId>E2E-7</ns:EndToEndId></ns:Refs>
                  <ns:Amt Ccy="EUR">7.00</ns:Amt><ns:CdtDbtInd>CRDT</ns:CdtDbtInd>
                  <ns:RmtInf><ns:Ustrd>F-7</ns:Ustrd></ns:RmtInf>
                </ns:TxDtls></ns:NtryDtls>
              </ns:Ntry>
        """

    static let full08 = document08(entries08)

    /// A camt.054.001.02 notification of the first movement (same bank reference).
    static let notification02 = """
        <?xml version="1.0"?>
        <Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02">
          <BkToCstmrDbtCdtNtfctn>
            <GrpHdr><MsgId>NTF-1</MsgId><CreDtTm>2026-03-01T10:00:00</CreDtTm></GrpHdr>
            <Ntfctn>
              <Id>NTF-2026-03-01-1</Id>
              <CreDtTm>2026-03-01T10:00:00</CreDtTm>
              <Acct><Id><IBAN>\(creditorIBAN)</IBAN></Id></Acct>
        \(single02)
            </Ntfctn>
          </BkToCstmrDbtCdtNtfctn>
        </Document>
        """
}
