//! The outbox hands out its due rows oldest first, skips rows not yet due
//! and rows another dispatcher holds, also behind a backlog larger than
//! one claim's window and on a table whose statistics were taken empty.

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use pb_store::outbox::{self, OutboxRow};
use pb_store::pool::PoolSettings;
use pb_store::provision;
use pb_store::{Db, Scope, StoreError};

async fn claim(db: &Db) -> Option<OutboxRow> {
    db.tx(&Scope::System, async |c| -> Result<_, StoreError> { outbox::claim_one_pending(c).await }).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_take_the_oldest_due_row_first_behind_a_backlog() {
    let test_db = provision::create_test_database().await.unwrap();
    let mut owner = AsyncPgConnection::establish(&test_db.owner_url).await.unwrap();
    // Statistics of an empty outbox, then a backlog of 3,000 due rows (due
    // a second apart, the oldest an hour ago, inserted newest first), one
    // row not due for an hour, and a row already done.
    owner
        .batch_execute(
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
        .await
        .unwrap();
    let db = Db::connect(&test_db.app_url, &PoolSettings { max_size: 3, ..Default::default() }).unwrap();

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
