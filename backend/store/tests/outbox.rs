//! The outbox hands out its due rows oldest first, skips rows not yet due
//! and rows another dispatcher holds, also behind a backlog larger than
//! one claim's window and on a table whose statistics were taken empty;
//! so does the delivery worker's claim, which also takes back a lease that
//! ran out. The rate limit's count reads each person's index entries
//! however the table grew after it was planned.

use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use pb_store::outbox::{self, OutboxRow};
use pb_store::pool::PoolSettings;
use pb_store::provision;
use pb_store::{Db, Scope, StoreError};

mod support;
use support::{joined, PlanLine};

/// A new database that its owner first prepares with `setup` (statistics
/// and rows), and the application's pool on it.
async fn database_after(setup: &str) -> (provision::TestDatabase, Db) {
    let test_db = provision::create_test_database().await.unwrap();
    let mut owner = AsyncPgConnection::establish(&test_db.owner_url).await.unwrap();
    owner.batch_execute(setup).await.unwrap();
    let db = Db::connect(&test_db.app_url, &PoolSettings { max_size: 3, ..Default::default() }).unwrap();
    (test_db, db)
}

async fn claim(db: &Db) -> Option<OutboxRow> {
    db.tx(&Scope::System, async |c| -> Result<_, StoreError> { outbox::claim_one_pending(c).await }).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_take_the_oldest_due_row_first_behind_a_backlog() {
    // Statistics of an empty outbox, then a backlog of 3,000 due rows (due
    // a second apart, the oldest an hour ago, inserted newest first), one
    // row not due for an hour, and a row already done.
    let (test_db, db) = database_after(
        "ANALYZE outbox; \
             INSERT INTO outbox (id, kind, payload, next_attempt_at, created_at) \
               SELECT gen_random_uuid(), 'backlog', jsonb_build_object('n', n), \
                      now() - interval '1 hour' + n * interval '1 second', now() \
               FROM generate_series(2999, 0, -1) AS n; \
             INSERT INTO outbox (id, kind, payload, next_attempt_at) \
               VALUES (gen_random_uuid(), 'later', '{}', now() + interval '1 hour'); \
             INSERT INTO outbox (id, kind, payload, status, next_attempt_at) \
               VALUES (gen_random_uuid(), 'finished', '{}', 'done', now() - interval '2 hours')",
    )
    .await;

    let first = claim(&db).await.expect("a due row");
    assert_eq!(first.kind, "backlog");
    assert_eq!(first.payload["n"], 0, "the row due longest ago comes first");

    // While one dispatcher holds the oldest row (its transaction is open),
    // another gets the next one.
    let mut held = db.dedicated().await.unwrap();
    held.batch_execute("BEGIN; SELECT set_config('pb.scope', 'system', true)").await.unwrap();
    let oldest = outbox::claim_one_pending(&mut held).await.unwrap().expect("a due row");
    assert_eq!(oldest.payload["n"], 0);
    let next = claim(&db).await.expect("the next due row");
    assert_eq!(next.payload["n"], 1, "a held row is skipped, the next oldest is given");
    held.batch_execute("ROLLBACK").await.unwrap();

    // Done rows and rows not yet due are never handed out: once the backlog
    // is marked done, nothing is due.
    db.tx(&Scope::System, async |c| -> Result<_, StoreError> {
        diesel_async::SimpleAsyncConnection::batch_execute(
            c,
            "UPDATE outbox SET status = 'done' WHERE kind = 'backlog'",
        )
        .await
        .map_err(StoreError::from)
    })
    .await
    .unwrap();
    assert!(claim(&db).await.is_none(), "the 'later' row is not due and the rest are done");
    drop(db);
    test_db.drop_database().await;
}

/// The generic plan of `sql` (one uuid parameter), prepared as `name`.
async fn generic_plan(conn: &mut AsyncPgConnection, name: &str, sql: &str) -> String {
    conn.batch_execute(&format!("PREPARE {name}(uuid) AS {sql}; SET plan_cache_mode = force_generic_plan"))
        .await
        .unwrap();
    let lines: Vec<PlanLine> =
        diesel_async::RunQueryDsl::load(diesel::sql_query(format!("EXPLAIN EXECUTE {name}(gen_random_uuid())")), conn)
            .await
            .unwrap();
    joined(lines)
}

/// Once a row is claimed it is read again by its key, not found by walking
/// the backlog: the generic plan (a prepared statement's after five runs)
/// of that read, on an outbox analysed with 20,000 done rows and no pending
/// ones and then given 3,000 due rows, is a primary-key lookup. The read it replaced, which filtered on
/// the due condition, was planned along `outbox_pending_idx` there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claimed_row_is_read_by_its_key_behind_a_backlog() {
    // As after a day of running: 20,000 rows done when the statistics were
    // taken (none pending), then a burst's backlog of 3,000 due rows.
    let (test_db, db) = database_after(
        "INSERT INTO outbox (id, kind, payload, status, next_attempt_at) \
               SELECT gen_random_uuid(), 'done', '{}', 'done', now() - interval '1 day' \
               FROM generate_series(1, 20000); \
             ANALYZE outbox; \
             INSERT INTO outbox (id, kind, payload, next_attempt_at) \
               SELECT gen_random_uuid(), 'backlog', jsonb_build_object('n', n), now() - n * interval '1 second' \
               FROM generate_series(0, 2999) AS n",
    )
    .await;
    let mut conn = db.dedicated().await.unwrap();
    Scope::System.apply_to_session(&mut conn).await.unwrap();
    let filtered = generic_plan(
        &mut conn,
        "filtered",
        "SELECT id, kind, payload, attempts, created_at FROM outbox \
         WHERE id = $1 AND status = 'pending' AND next_attempt_at <= now()",
    )
    .await;
    assert!(filtered.contains("outbox_pending_idx"), "the scenario misleads the planner:\n{filtered}");
    let by_key = generic_plan(&mut conn, "by_key", outbox::ROW_BY_ID_SQL).await;
    assert!(by_key.contains("Index Scan using outbox_pkey"), "{by_key}");
    assert!(by_key.contains("$1"), "a generic plan names its parameter:\n{by_key}");

    // And the claim still hands out the row due longest ago.
    drop(conn);
    let first = claim(&db).await.expect("a due row");
    assert_eq!(first.payload["n"], 2999);
    drop(db);
    test_db.drop_database().await;
}

async fn claim_deliveries(db: &Db, n: i64) -> Vec<outbox::Delivery> {
    db.tx(&Scope::System, async |c| -> Result<_, StoreError> { outbox::claim_due(c, n, Duration::from_secs(60)).await })
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_are_claimed_oldest_first_under_a_lease_behind_a_backlog() {
    // Statistics of an empty table, then a backlog of 3,000 due deliveries
    // (seq = how many seconds after the oldest it is due; inserted newest
    // first), one whose lease ran out before any of them was due, one whose
    // lease still holds, one not due for an hour and one already sent.
    let (test_db, db) = database_after(
        "ANALYZE notification_deliveries; \
             INSERT INTO outbox (id, kind, payload, status) \
               VALUES ('00000000-0000-4000-8000-000000000001', 'backlog', '{}', 'done'); \
             INSERT INTO notification_deliveries (outbox_id, seq, email, language, kind, subject, summary, \
                                                  body_text, next_attempt_at) \
               SELECT '00000000-0000-4000-8000-000000000001', n, 'p' || n || '@example.org', 'nl', 'new_call', \
                      's', 's', 'b', now() - interval '1 hour' + n * interval '1 second' \
               FROM generate_series(2999, 0, -1) AS n; \
             INSERT INTO notification_deliveries (outbox_id, seq, email, language, kind, subject, summary, \
                                                  status, locked_until, attempts, next_attempt_at) VALUES \
               ('00000000-0000-4000-8000-000000000001', -1, 'lapsed@example.org', 'nl', 'new_call', 's', 's', \
                'sending', now() - interval '1 minute', 1, now() - interval '2 hours'), \
               ('00000000-0000-4000-8000-000000000001', -2, 'held@example.org', 'nl', 'new_call', 's', 's', \
                'sending', now() + interval '5 minutes', 1, now() - interval '3 hours'), \
               ('00000000-0000-4000-8000-000000000001', -3, 'later@example.org', 'nl', 'new_call', 's', 's', \
                'pending', NULL, 0, now() + interval '1 hour'), \
               ('00000000-0000-4000-8000-000000000001', -4, 'sent@example.org', 'nl', 'new_call', 's', 's', \
                'sent', NULL, 1, now() - interval '4 hours')",
    )
    .await;

    let first = claim_deliveries(&db, 3).await;
    let seqs: Vec<i32> = first.iter().map(|d| d.seq).collect();
    assert_eq!(seqs, [-1, 0, 1], "the lapsed lease first, then the deliveries due longest ago");
    assert_eq!(first[0].attempts, 2, "a claim counts as an attempt");
    assert_eq!(first[1].attempts, 1);
    assert_eq!(first[1].body_text.as_deref(), Some("b"));

    // While one worker's claim is still open, another gets the next ones.
    let mut held = db.dedicated().await.unwrap();
    held.batch_execute("BEGIN; SELECT set_config('pb.scope', 'system', true)").await.unwrap();
    let open = outbox::claim_due(&mut held, 2, Duration::from_secs(60)).await.unwrap();
    assert_eq!(open.iter().map(|d| d.seq).collect::<Vec<_>>(), [2, 3]);
    let next = claim_deliveries(&db, 2).await;
    assert_eq!(next.iter().map(|d| d.seq).collect::<Vec<_>>(), [4, 5], "rows another claim holds are skipped");
    held.batch_execute("ROLLBACK").await.unwrap();

    // Claimed rows are leased: the rest of the backlog comes out, then
    // nothing (the held lease, the one not due and the sent one never).
    let rest = claim_deliveries(&db, 5000).await;
    assert_eq!(rest.len(), 2996, "2 released by the rollback and the 2,994 never claimed");
    assert_eq!(rest[0].seq, 2);
    assert!(rest.iter().all(|d| d.seq >= 0));
    assert!(claim_deliveries(&db, 10).await.is_empty());
    drop(db);
    test_db.drop_database().await;
}

/// Sequential and index scans of `notification_deliveries` so far: those
/// already in the shared statistics plus this session's not yet flushed.
async fn scans_so_far(conn: &mut AsyncPgConnection) -> (i64, i64) {
    #[derive(diesel::QueryableByName)]
    struct Scans {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        seq: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        idx: i64,
    }
    let s: Scans = diesel_async::RunQueryDsl::get_result(
        diesel::sql_query(
            "SELECT t.seq_scan + x.seq_scan AS seq, coalesce(t.idx_scan, 0) + coalesce(x.idx_scan, 0) AS idx \
             FROM pg_stat_user_tables t JOIN pg_stat_xact_user_tables x USING (relid) \
             WHERE t.relname = 'notification_deliveries'",
        ),
        conn,
    )
    .await
    .unwrap();
    (s.seq, s.idx)
}

/// The rate limit counts each person's instant mails along their index,
/// however the table looked when the count was planned. Here the
/// statistics saw one busy person only, so a prepared count's generic plan
/// (kept from its sixth run on) would read the whole table for every
/// person, and go on doing so while the table grows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instant_mails_are_counted_along_the_person_index_however_the_table_grew() {
    const BUSY: &str = "00000000-0000-4000-8000-00000000000b";
    const COUNTED: [&str; 3] = [
        "00000000-0000-4000-8000-00000000000c",
        "00000000-0000-4000-8000-00000000000d",
        "00000000-0000-4000-8000-00000000000e",
    ];
    let mail_to = |user: &str, from: i32, to: i32| {
        format!(
            "INSERT INTO notification_deliveries (outbox_id, seq, user_id, email, language, kind, subject, summary, \
                                                  status) \
               SELECT '00000000-0000-4000-8000-000000000001', n, '{user}', 'p@example.org', 'nl', 'new_call', \
                      's', 's', 'sent' \
               FROM generate_series({from}, {to}) AS n"
        )
    };
    let (test_db, db) = database_after(&format!(
        "INSERT INTO users (id, email, password_hash, name) \
           SELECT id::uuid, 'u' || n || '@example.org', 'x', 'U' \
           FROM unnest(ARRAY['{BUSY}', '{}', '{}', '{}']) WITH ORDINALITY AS u(id, n); \
         INSERT INTO outbox (id, kind, payload, status) \
           VALUES ('00000000-0000-4000-8000-000000000001', 'day', '{{}}', 'done'); \
         {}; ANALYZE notification_deliveries",
        COUNTED[0],
        COUNTED[1],
        COUNTED[2],
        mail_to(BUSY, 1, 200)
    ))
    .await;
    let mut conn = db.dedicated().await.unwrap();
    Scope::System.apply_to_session(&mut conn).await.unwrap();
    conn.batch_execute("SET stats_fetch_consistency = none").await.unwrap();
    let people: Vec<uuid::Uuid> = COUNTED.iter().map(|u| u.parse().unwrap()).collect();
    let since = chrono::Utc::now() - chrono::Duration::hours(1);
    // Planned on that table, more than five times.
    for _ in 0..6 {
        let counts = outbox::instant_counts_since(&conn, &people, since).await.unwrap();
        assert_eq!(counts.iter().map(|(_, n)| *n).collect::<Vec<_>>(), [0, 0, 0]);
    }
    // Then the rest of a day of mail: 20,000 more for the busy person, two
    // for the first counted one and one from yesterday for the second.
    let mut owner = AsyncPgConnection::establish(&test_db.owner_url).await.unwrap();
    owner
        .batch_execute(&format!(
            "{}; {}; {}; UPDATE notification_deliveries SET created_at = now() - interval '1 day' \
             WHERE user_id = '{}'",
            mail_to(BUSY, 201, 20_200),
            mail_to(COUNTED[0], 20_201, 20_202),
            mail_to(COUNTED[1], 20_203, 20_203),
            COUNTED[1]
        ))
        .await
        .unwrap();

    let before = scans_so_far(&mut conn).await;
    let counts = outbox::instant_counts_since(&conn, &people, since).await.unwrap();
    let after = scans_so_far(&mut conn).await;
    assert_eq!(counts, people.iter().copied().zip([2, 0, 0]).collect::<Vec<_>>(), "each person's own count, in order");
    assert_eq!(after.0 - before.0, 0, "no sequential scan");
    assert_eq!(after.1 - before.1, 3, "one index scan per person");
    drop((conn, owner, db));
    test_db.drop_database().await;
}
