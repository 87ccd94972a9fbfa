//! The event log's delivery order is numeric in `(xid, id)`, also where an
//! xid gains a digit (text order would put "100" before "99"), and the hub's
//! reader reads a batch along the cursor index however far behind it is.

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use pb_store::events::{self, Cursor};
use pb_store::pool::PoolSettings;
use pb_store::provision;
use pb_store::{Db, Scope, StoreError};
use uuid::Uuid;

mod support;
use support::{joined, PlanLine};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_read_in_numeric_xid_order_across_a_digit() {
    let test_db = provision::create_test_database().await.unwrap();
    let recipient = Uuid::new_v4();
    // Two transactions' rows, xids 100 and 99 (long committed, so both are
    // deliverable), written in that order: ids say 100 came first.
    let mut owner = AsyncPgConnection::establish(&test_db.owner_url).await.unwrap();
    owner
        .batch_execute(&format!(
            "INSERT INTO events (xid, recipient_user_id, kind) VALUES \
             ('100', '{recipient}', 'second'), ('99', '{recipient}', 'first')"
        ))
        .await
        .unwrap();
    let db = Db::connect(&test_db.app_url, &PoolSettings { max_size: 2, ..Default::default() }).unwrap();
    let (log, head, page, mine) = db
        .tx(&Scope::System, async |c| -> Result<_, StoreError> {
            let log = events::read_log(c, Cursor::ZERO, 10).await?;
            let head = events::visible_head(c).await?;
            // A page cut by the limit ends at the lower xid, and the next
            // page starts after it.
            let mut page = Vec::new();
            let mut at = Cursor::ZERO;
            while let Some(row) = events::read_log(c, at, 1).await?.rows.pop() {
                at = row.cursor;
                page.push(row.kind);
            }
            let mine = events::read_after(c, recipient, Cursor::ZERO, 10).await?;
            Ok((log, head, page, mine))
        })
        .await
        .unwrap();
    let kinds = |rows: &[events::EventRow]| rows.iter().map(|r| r.kind.clone()).collect::<Vec<_>>();
    assert_eq!(kinds(&log.rows), ["first", "second"]);
    assert_eq!(log.rows.iter().map(|r| r.cursor.xid).collect::<Vec<_>>(), [99, 100]);
    assert!(!log.pending);
    assert_eq!(head.xid, 100, "the head is the numerically highest xid");
    assert_eq!(page, ["first", "second"]);
    assert_eq!(kinds(&mine), ["first", "second"]);
    drop(db);
    test_db.drop_database().await;
}

async fn plan_of_log_read(conn: &mut AsyncPgConnection, after: Cursor) -> String {
    use diesel::sql_types::{BigInt, Text};
    use diesel_async::RunQueryDsl;
    let lines: Vec<PlanLine> = diesel::sql_query(format!("EXPLAIN {}", events::READ_LOG))
        .bind::<Text, _>(after.xid.to_string())
        .bind::<BigInt, _>(after.id)
        .bind::<BigInt, _>(500)
        .load(conn)
        .await
        .unwrap();
    joined(lines)
}

#[track_caller]
fn assert_walks_the_index_from_the_cursor(plan: &str) {
    assert!(plan.contains("Index Scan using events_cursor_idx"), "{plan}");
    assert!(plan.contains("Index Cond: (ROW(xid, id) > ROW("), "starts at the cursor, not at the start:\n{plan}");
    assert!(!plan.contains("Sort") && !plan.contains("Bitmap"), "{plan}");
}

/// A reader far behind the head reads one batch along the cursor index,
/// not the whole backlog after its cursor. The planner, misled by the
/// row-level security filter, would sort everything after the cursor for
/// each batch; the reader's session rules that plan out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_far_behind_the_head_walks_the_cursor_index() {
    let test_db = provision::create_test_database().await.unwrap();
    // 40,000 events of 200 long-committed transactions, with statistics.
    let mut owner = AsyncPgConnection::establish(&test_db.owner_url).await.unwrap();
    owner
        .batch_execute(
            "INSERT INTO events (xid, recipient_user_id, kind, payload) \
               SELECT (100 + n / 200)::text::xid8, gen_random_uuid(), 'backlog', jsonb_build_object('n', n) \
               FROM generate_series(0, 39999) AS n; \
             ANALYZE events",
        )
        .await
        .unwrap();
    let db = Db::connect(&test_db.app_url, &PoolSettings { max_size: 1, ..Default::default() }).unwrap();
    // Halfway through the backlog.
    let behind = Cursor { xid: 199, id: i64::MAX };

    let mut planner_left_alone = db.dedicated().await.unwrap();
    Scope::System.apply_to_session(&mut planner_left_alone).await.unwrap();
    let unguided = plan_of_log_read(&mut planner_left_alone, behind).await;
    assert!(unguided.contains("Sort"), "the scenario shows the planner's own choice, a sort:\n{unguided}");

    let mut reader = db.dedicated().await.unwrap();
    Scope::System.apply_to_session(&mut reader).await.unwrap();
    events::plan_for_log_reading(&mut reader).await.unwrap();
    let plan = plan_of_log_read(&mut reader, behind).await;
    assert_walks_the_index_from_the_cursor(&plan);
    // The generic plan too, which a prepared statement settles on after
    // five executions.
    reader
        .batch_execute(&format!(
            "PREPARE log_read(text, bigint, bigint) AS {}; SET plan_cache_mode = force_generic_plan",
            events::READ_LOG
        ))
        .await
        .unwrap();
    let generic: Vec<PlanLine> =
        diesel_async::RunQueryDsl::load(diesel::sql_query("EXPLAIN EXECUTE log_read('199', 0, 500)"), &mut reader)
            .await
            .unwrap();
    let generic = joined(generic);
    assert!(generic.contains("$1"), "a generic plan names its parameters:\n{generic}");
    assert_walks_the_index_from_the_cursor(&generic);

    // And the read itself: the next 500 events in order.
    let read = events::read_log(&mut reader, behind, 500).await.unwrap();
    let numbers: Vec<i64> = read.rows.iter().map(|r| r.payload["n"].as_i64().unwrap()).collect();
    assert_eq!(numbers, (20_000..20_500).collect::<Vec<_>>());
    assert!(!read.pending);
    drop((planner_left_alone, reader, db));
    test_db.drop_database().await;
}
