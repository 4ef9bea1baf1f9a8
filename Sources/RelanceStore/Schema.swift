import GRDB
import RelanceCore

/// Versioned migrations. A migration, once released, is never edited: add a new one.
enum Schema {
    /// SQL for "now" on the database clock, in the stored timestamp format.
    static let now = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-jobs-payers-trace") { db in
            let states = JobStateSQL.all
            try db.execute(
                sql: """
                    CREATE TABLE payers (
                      ref TEXT PRIMARY KEY NOT NULL,
                      name TEXT NOT NULL,
                      locale TEXT NOT NULL DEFAULT 'fr-FR',
                      timezone TEXT NOT NULL DEFAULT 'Europe/Paris',
                      segment TEXT NOT NULL DEFAULT 'standard',
                      email TEXT,
                      phone TEXT,
                      postal_address TEXT,
                      channels TEXT NOT NULL DEFAULT '["email"]',
                      created_at TEXT NOT NULL DEFAULT (\(now)),
                      updated_at TEXT NOT NULL DEFAULT (\(now))
                    );

                    CREATE TABLE jobs (
                      id INTEGER PRIMARY KEY AUTOINCREMENT,
                      idempotency_key TEXT UNIQUE,
                      payer_ref TEXT NOT NULL,
                      case_ref TEXT,
                      channel TEXT NOT NULL,
                      template TEXT NOT NULL,
                      data TEXT NOT NULL DEFAULT '{}',
                      run_at TEXT NOT NULL DEFAULT (\(now)),
                      due_at TEXT,
                      priority INTEGER NOT NULL DEFAULT 0,
                      state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN (\(states))),
                      attempt INTEGER NOT NULL DEFAULT 0,
                      max_attempts INTEGER,
                      lease_owner TEXT,
                      lease_expires_at TEXT,
                      dispatch_started_at TEXT,
                      cancel_reason TEXT,
                      last_error TEXT,
                      provider_ref TEXT,
                      created_at TEXT NOT NULL DEFAULT (\(now)),
                      updated_at TEXT NOT NULL DEFAULT (\(now)),
                      finished_at TEXT
                    );
                    CREATE INDEX jobs_due ON jobs(priority DESC, run_at, id) WHERE state = 'queued';
                    CREATE INDEX jobs_expiry ON jobs(due_at) WHERE state = 'queued';
                    CREATE INDEX jobs_leases ON jobs(lease_expires_at) WHERE state = 'running';
                    CREATE INDEX jobs_case ON jobs(case_ref);
                    CREATE INDEX jobs_payer ON jobs(payer_ref);
                    CREATE INDEX jobs_finished ON jobs(finished_at) WHERE finished_at IS NOT NULL;

                    CREATE TABLE delivery_events (
                      id INTEGER PRIMARY KEY AUTOINCREMENT,
                      job_id INTEGER NOT NULL,
                      attempt INTEGER NOT NULL,
                      at TEXT NOT NULL DEFAULT (\(now)),
                      event TEXT NOT NULL,
                      case_ref TEXT,
                      channel TEXT NOT NULL,
                      detail TEXT NOT NULL DEFAULT '{}'
                    );
                    CREATE INDEX delivery_events_job ON delivery_events(job_id, id);

                    -- Rows inserted with plain SQL by other services get the same treatment
                    -- as those enqueued through Relance: run_at normalised to the stored
                    -- format (or the job failed if it is not a date), due_at remembered for
                    -- the maximum age, and an `enqueued` trace event. Relance's own inserts
                    -- are already normalised: the guarded statements do nothing for them.
                    CREATE TRIGGER jobs_enqueued AFTER INSERT ON jobs BEGIN
                      UPDATE jobs SET
                        run_at = COALESCE(strftime('%Y-%m-%dT%H:%M:%fZ', NEW.run_at), NEW.run_at),
                        due_at = COALESCE(strftime('%Y-%m-%dT%H:%M:%fZ', NEW.due_at), strftime('%Y-%m-%dT%H:%M:%fZ', NEW.run_at), \(now))
                      WHERE (NEW.due_at IS NULL OR NEW.run_at IS NOT strftime('%Y-%m-%dT%H:%M:%fZ', NEW.run_at))
                        AND id = NEW.id;
                      INSERT INTO delivery_events(job_id, attempt, event, case_ref, channel, detail)
                      VALUES (NEW.id, 0, 'enqueued', NEW.case_ref, NEW.channel,
                              json_object('payer_ref', NEW.payer_ref, 'template', NEW.template,
                                          'run_at', COALESCE(strftime('%Y-%m-%dT%H:%M:%fZ', NEW.run_at), NEW.run_at)));
                      UPDATE jobs SET state = 'failed', finished_at = \(now),
                        last_error = 'run_at ' || quote(NEW.run_at) || ' is not a date (use ISO 8601, e.g. 2026-11-23T09:00:00Z)'
                      WHERE strftime('%Y-%m-%dT%H:%M:%fZ', NEW.run_at) IS NULL AND id = NEW.id;
                      INSERT INTO delivery_events(job_id, attempt, event, case_ref, channel, detail)
                      SELECT NEW.id, 0, 'permanent_error', NEW.case_ref, NEW.channel,
                             json_object('reason', 'data', 'message',
                               'run_at ' || quote(NEW.run_at) || ' is not a date (use ISO 8601, e.g. 2026-11-23T09:00:00Z)')
                      WHERE strftime('%Y-%m-%dT%H:%M:%fZ', NEW.run_at) IS NULL;
                    END;
                    """
            )
        }
        // A delivery report can overtake the worker: the gateway reports delivery before
        // the worker has recorded its answer. The report is kept here and applied when
        // the attempt's outcome is recorded (or when its lease expires).
        migrator.registerMigration("v2-early-delivery-reports") { db in
            try db.execute(
                sql: """
                    ALTER TABLE jobs ADD COLUMN reported_state TEXT
                      CHECK (reported_state IS NULL OR reported_state IN ('delivered', 'undelivered'))
                    """)
        }
        // Invoices looked after by a dunning scenario; `ref` is the case_ref of their jobs.
        migrator.registerMigration("v3-invoices") { db in
            try db.execute(
                sql: """
                    CREATE TABLE invoices (
                      ref TEXT PRIMARY KEY,
                      payer_ref TEXT NOT NULL,
                      scenario TEXT NOT NULL,
                      currency TEXT NOT NULL,
                      amount TEXT NOT NULL,
                      balance TEXT NOT NULL,
                      issue_date TEXT NOT NULL,
                      due_date TEXT NOT NULL,
                      status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'paid')),
                      created_at TEXT NOT NULL DEFAULT (\(now)),
                      updated_at TEXT NOT NULL DEFAULT (\(now)),
                      paid_at TEXT
                    ) STRICT
                    """)
        }
        // Holds (dispute, promise to pay): the jobs of a held invoice wait until the hold
        // ends; `held_run_at` keeps when they were due, for a hold lifted early.
        migrator.registerMigration("v4-holds") { db in
            try db.execute(sql: "ALTER TABLE jobs ADD COLUMN held_run_at TEXT")
            try db.execute(sql: "ALTER TABLE invoices ADD COLUMN hold_until TEXT")
            try db.execute(sql: "ALTER TABLE invoices ADD COLUMN hold_reason TEXT")
        }
        // Contact points that bounced or could not be used: skipped until the payer's
        // profile changes them.
        migrator.registerMigration("v5-suppressions") { db in
            try db.execute(
                sql: """
                    CREATE TABLE suppressions (
                      payer_ref TEXT NOT NULL,
                      channel TEXT NOT NULL,
                      contact TEXT NOT NULL,
                      reason TEXT NOT NULL,
                      created_at TEXT NOT NULL DEFAULT (\(now)),
                      PRIMARY KEY (payer_ref, channel)
                    ) STRICT
                    """)
        }
        // Every payment recorded on an invoice, for the effectiveness report.
        migrator.registerMigration("v6-payments") { db in
            try db.execute(
                sql: """
                    CREATE TABLE payments (
                      id INTEGER PRIMARY KEY,
                      invoice_ref TEXT NOT NULL REFERENCES invoices(ref) ON DELETE CASCADE,
                      amount TEXT NOT NULL,
                      paid_on TEXT NOT NULL,
                      recorded_at TEXT NOT NULL DEFAULT (\(now))
                    ) STRICT
                    """)
            try db.execute(sql: "CREATE INDEX payments_invoice ON payments(invoice_ref)")
        }
        // Rows written by SQL with a priority that is not an integer ('high', 1.5) would sort
        // above every other queued job: they fail at once, naming the column (the claim
        // also fails any that got past this).
        migrator.registerMigration("v7-integer-priority") { db in
            let failure = """
                'unusable row: column priority: ' || CASE typeof(NEW.priority)
                  WHEN 'text' THEN 'text ' || quote(substr(NEW.priority, 1, 40)) WHEN 'real' THEN 'real ' || NEW.priority
                  WHEN 'null' THEN 'NULL' ELSE typeof(NEW.priority) END || ' is not an integer'
                """
            for (name, when) in [
                ("jobs_priority_inserted", "AFTER INSERT ON jobs"),
                ("jobs_priority_updated", "AFTER UPDATE OF priority ON jobs"),
            ] {
                try db.execute(
                    sql: """
                        CREATE TRIGGER \(name) \(when)
                        WHEN typeof(NEW.priority) != 'integer' AND NEW.state = 'queued' BEGIN
                          INSERT INTO delivery_events(job_id, attempt, event, case_ref, channel, detail)
                          VALUES (NEW.id, NEW.attempt, 'permanent_error', NEW.case_ref, NEW.channel,
                                  json_object('reason', 'data', 'message', \(failure)));
                          UPDATE jobs SET state = 'failed', priority = 0, finished_at = \(now), updated_at = \(now),
                            last_error = \(failure)
                          WHERE id = NEW.id;
                        END
                        """)
            }
            // SQLite fires the newest trigger first: recreated, the `enqueued` event comes first.
            if let enqueued = try String.fetchOne(
                db, sql: "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'jobs_enqueued'")
            {
                try db.execute(sql: "DROP TRIGGER jobs_enqueued")
                try db.execute(sql: enqueued)
            }
        }
        // Business or consumer decides the legal texts: its own column, not a segment name.
        // Existing payers whose segment says consumer (in any case, or `particulier`) become
        // consumers.
        migrator.registerMigration("v8-payer-kind") { db in
            try db.execute(
                sql: """
                    ALTER TABLE payers ADD COLUMN kind TEXT NOT NULL DEFAULT 'business'
                      CHECK (kind IN ('business', 'consumer'))
                    """)
            try db.execute(
                sql: """
                    UPDATE payers SET kind = 'consumer'
                    WHERE lower(trim(segment)) IN ('consumer', 'consumers', 'particulier', 'particuliers')
                    """)
        }
        // Lettrage (docs/PAYMENTS.md): each invoice's creditor reference, and the bank
        // statement lines read, each stored once with what was done with it.
        migrator.registerMigration("v9-bank-lines") { db in
            try db.execute(sql: "ALTER TABLE invoices ADD COLUMN reference TEXT")
            try db.execute(sql: "CREATE UNIQUE INDEX invoices_reference ON invoices(reference)")
            try db.execute(sql: "ALTER TABLE payments ADD COLUMN bank_line_id TEXT")
            try db.execute(sql: BankLineSQL.table(now: now, strict: true))
            try db.execute(sql: BankLineSQL.indexes)
            // Invoices registered before: their references, in the order they came.
            let refs = try String.fetchAll(db, sql: "SELECT ref FROM invoices ORDER BY created_at, ref")
            for ref in refs {
                for candidate in RFReference.candidates(forInvoice: ref) {
                    let taken =
                        try Bool.fetchOne(
                            db, sql: "SELECT 1 FROM invoices WHERE reference = ?", arguments: [candidate.text]) ?? false
                    if taken { continue }
                    try db.execute(
                        sql: "UPDATE invoices SET reference = ? WHERE ref = ?", arguments: [candidate.text, ref])
                    break
                }
            }
        }
        // Evidence: the exact bytes of every message handed to a provider (MessageArchive),
        // compressed; and the trace's hash chain (TraceSealing).
        migrator.registerMigration("v10-evidence") { db in
            try db.execute(sql: ArchiveSQL.table(now: now, blob: "BLOB", timestamp: "TEXT", strict: true))
            try db.execute(sql: ArchiveSQL.index())
            for statement in ArchiveSQL.evidence() { try db.execute(sql: statement) }
            // A sealed event is never changed (the sealer only fills unsealed ones): an edit
            // needs the trigger dropped first, and then breaks the chain.
            try db.execute(
                sql: """
                    CREATE TRIGGER delivery_events_sealed BEFORE UPDATE ON delivery_events
                    WHEN OLD.chain_hash IS NOT NULL
                    BEGIN SELECT RAISE(ABORT, 'a sealed trace event cannot be changed'); END
                    """)
        }
        return migrator
    }
}

/// The `message_archive` table, the same on both backends but for its types.
public enum ArchiveSQL {
    public static func table(now: String, blob: String, timestamp: String, strict: Bool, prefix: String = "") -> String
    {
        """
        CREATE TABLE \(prefix)message_archive (
          sha256 TEXT PRIMARY KEY,
          media_type TEXT NOT NULL,
          size INTEGER NOT NULL,
          compression TEXT NOT NULL CHECK (compression IN ('deflate', 'none')),
          content \(blob) NOT NULL,
          archived_at \(timestamp) NOT NULL DEFAULT (\(now))
        )\(strict ? " STRICT" : "")
        """
    }

    public static func index(prefix: String = "") -> String {
        "CREATE INDEX message_archive_age ON \(prefix)message_archive(archived_at)"
    }

    /// The trace's hash chain (each event's link, hash and place in the sealing order),
    /// and the console's index of the jobs that need a person.
    public static func evidence(prefix: String = "") -> [String] {
        [
            "ALTER TABLE \(prefix)delivery_events ADD COLUMN chain_prev TEXT",
            "ALTER TABLE \(prefix)delivery_events ADD COLUMN chain_hash TEXT",
            "ALTER TABLE \(prefix)delivery_events ADD COLUMN chain_seq BIGINT",
            "CREATE INDEX delivery_events_unsealed ON \(prefix)delivery_events(id) WHERE chain_hash IS NULL",
            "CREATE INDEX delivery_events_case_chain ON \(prefix)delivery_events(case_ref, chain_seq)",
            "CREATE INDEX delivery_events_sealed ON \(prefix)delivery_events(chain_seq)",
            // The console's "needs a person": a few rows, never the million sent.
            """
            CREATE INDEX jobs_attention ON \(prefix)jobs(state, channel)
              WHERE state IN (\(attentionStates.map { "'\($0)'" }.joined(separator: ", ")))
            """,
        ]
    }
}

/// The `bank_lines` table, the same on both backends but for the timestamp type.
public enum BankLineSQL {
    public static func table(now: String, strict: Bool, timestamp: String = "TEXT", prefix: String = "") -> String {
        """
        CREATE TABLE \(prefix)bank_lines (
          id TEXT PRIMARY KEY,
          statement_id TEXT NOT NULL,
          account TEXT NOT NULL,
          amount TEXT NOT NULL,
          currency TEXT NOT NULL,
          booking_date TEXT,
          value_date TEXT,
          debtor_name TEXT,
          debtor_iban TEXT,
          end_to_end_id TEXT,
          reference TEXT,
          remittance TEXT NOT NULL,
          bank_status TEXT,
          direction TEXT NOT NULL DEFAULT 'credit' CHECK (direction IN ('credit', 'debit')),
          reversal INTEGER NOT NULL DEFAULT 0,
          status TEXT NOT NULL CHECK (status IN ('matched', 'review', 'dismissed')),
          step TEXT,
          review TEXT,
          payer_ref TEXT,
          invoices TEXT NOT NULL DEFAULT '[]',
          candidates TEXT NOT NULL DEFAULT '[]',
          note TEXT NOT NULL DEFAULT '',
          imported_at \(timestamp) NOT NULL DEFAULT (\(now)),
          dismissed_at \(timestamp)
        )\(strict ? " STRICT" : "")
        """
    }

    public static func indexes(prefix: String) -> String {
        """
        CREATE INDEX bank_lines_iban ON \(prefix)bank_lines(debtor_iban, payer_ref) WHERE status = 'matched';
        CREATE INDEX bank_lines_review ON \(prefix)bank_lines(imported_at) WHERE status = 'review'
        """
    }

    static var indexes: String { indexes(prefix: "") }
}

enum JobStateSQL {
    static var all: String { JobState.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ") }
}
