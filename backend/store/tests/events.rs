//! The event log's delivery order is numeric in `(xid, id)`, also where an
//! xid gains a digit (text order would put "100" before "99").

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use pb_store::events::{self, Cursor};
use pb_store::pool::PoolSettings;
use pb_store::provision;
use pb_store::{Db, Scope, StoreError};
use uuid::Uuid;

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
