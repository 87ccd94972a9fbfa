//! The pool hands out connections without a test query; a connection the
//! server closed while it sat idle must not fail the work that gets it.
//! A transaction of lookups plans each statement once; others keep
//! PostgreSQL's default.

use diesel::sql_types::{BigInt, Integer, Text};
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use pb_store::pool::PoolSettings;
use pb_store::provision::{self, TEST_APP_ROLE};
use pb_store::{Db, Scope, StoreError};

#[derive(QueryableByName)]
struct Pid {
    #[diesel(sql_type = Integer)]
    pid: i32,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn backend_pid(db: &Db) -> i32 {
    db.tx(&Scope::System, async |c| -> Result<i32, StoreError> {
        Ok(diesel::sql_query("SELECT pg_backend_pid() AS pid").get_result::<Pid>(c).await?.pid)
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_survives_pooled_connections_the_server_closed() {
    let test_db = provision::create_test_database().await.unwrap();
    let db = Db::connect(&test_db.app_url, &PoolSettings { max_size: 2, ..Default::default() }).unwrap();
    let first = backend_pid(&db).await;

    // The server ends every session of the app role on this database, as a
    // restart or an idle timeout would; the pool still holds them.
    let mut admin = AsyncPgConnection::establish(test_db.admin_url()).await.unwrap();
    let ended = diesel::sql_query(
        "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE datname = $1 AND usename = $2",
    )
    .bind::<Text, _>(&test_db.name)
    .bind::<Text, _>(TEST_APP_ROLE)
    .get_result::<Count>(&mut admin)
    .await
    .unwrap();
    assert!(ended.n >= 1, "the pooled connection was found and ended");

    // Every transaction after that succeeds, on a new session.
    for _ in 0..4 {
        let pid = backend_pid(&db).await;
        assert_ne!(pid, first, "a closed session is not handed out again");
    }
    drop(db);
    test_db.drop_database().await;
}

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    mode: String,
}

#[derive(QueryableByName)]
struct Plans {
    #[diesel(sql_type = BigInt)]
    generic: i64,
    #[diesel(sql_type = BigInt)]
    custom: i64,
}

async fn plan_cache_mode(c: &mut AsyncPgConnection) -> Result<String, StoreError> {
    Ok(diesel::sql_query("SELECT current_setting('plan_cache_mode') AS mode").get_result::<Setting>(c).await?.mode)
}

/// How often this session planned the prepared statement `name` generically and custom.
async fn plans_of(c: &mut AsyncPgConnection, name: &str) -> Result<(i64, i64), StoreError> {
    let p: Plans = diesel::sql_query(
        "SELECT generic_plans AS generic, custom_plans AS custom FROM pg_prepared_statements WHERE name = $1",
    )
    .bind::<Text, _>(name)
    .get_result(c)
    .await?;
    Ok((p.generic, p.custom))
}

/// By default, a lookup of one id written `= ANY($1)` gets a custom plan on
/// every execution, while `= $1` settles on the generic plan after five;
/// inside `tx_of_lookups` the array lookup is planned generically from the
/// first execution, and the setting ends with that transaction. The offer
/// withdrawals of a booking are prepared statements of the session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_of_lookups_plans_each_statement_once_and_only_that_transaction() {
    let test_db = provision::create_test_database().await.unwrap();
    // Statistics of a table with rows, so that the planner's costs do not
    // rest on the guesses it makes for a table never analysed.
    let mut owner = AsyncPgConnection::establish(&test_db.owner_url).await.unwrap();
    diesel_async::SimpleAsyncConnection::batch_execute(
        &mut owner,
        "INSERT INTO users (email, password_hash, name) \
           SELECT 'u' || n || '@example.nl', 'x', 'U ' || n FROM generate_series(1, 2000) AS n; \
         ANALYZE users",
    )
    .await
    .unwrap();
    // One connection, so every transaction below shares the session and its
    // prepared statements.
    let db = Db::connect(&test_db.app_url, &PoolSettings { max_size: 1, ..Default::default() }).unwrap();

    let (mode, by_ids, by_id) = db
        .tx(&Scope::System, async |c| -> Result<_, StoreError> {
            diesel::sql_query("PREPARE by_ids(uuid[]) AS SELECT id FROM users WHERE id = ANY($1)").execute(c).await?;
            diesel::sql_query("PREPARE by_id(uuid) AS SELECT id FROM users WHERE id = $1").execute(c).await?;
            // Past the five custom plans after which PostgreSQL may settle on a generic one.
            for _ in 0..8 {
                diesel::sql_query("EXECUTE by_ids(ARRAY[gen_random_uuid()])").execute(c).await?;
                diesel::sql_query("EXECUTE by_id(gen_random_uuid())").execute(c).await?;
            }
            Ok((plan_cache_mode(c).await?, plans_of(c, "by_ids").await?, plans_of(c, "by_id").await?))
        })
        .await
        .unwrap();
    assert_eq!(mode, "auto");
    assert_eq!(by_ids, (0, 8), "by default `= ANY($1)` is planned for each execution");
    assert!(by_id.0 >= 1 && by_id.1 == 5, "`= $1` settles on the generic plan after five custom ones: {by_id:?}");

    let (mode, by_ids) = db
        .tx_of_lookups(&Scope::System, async |c| -> Result<_, StoreError> {
            diesel::sql_query("EXECUTE by_ids(ARRAY[gen_random_uuid()])").execute(c).await?;
            diesel::sql_query("EXECUTE by_ids(ARRAY[gen_random_uuid()])").execute(c).await?;
            Ok((plan_cache_mode(c).await?, plans_of(c, "by_ids").await?))
        })
        .await
        .unwrap();
    assert_eq!(mode, "force_generic_plan");
    assert_eq!(by_ids, (2, 8), "generic plans inside a transaction of lookups");

    let (mode, by_ids) = db
        .tx(&Scope::System, async |c| -> Result<_, StoreError> {
            diesel::sql_query("EXECUTE by_ids(ARRAY[gen_random_uuid()])").execute(c).await?;
            Ok((plan_cache_mode(c).await?, plans_of(c, "by_ids").await?))
        })
        .await
        .unwrap();
    assert_eq!(mode, "auto", "the setting ended with the transaction of lookups");
    assert_eq!(by_ids, (2, 9), "custom plans again after it");

    // The offer withdrawals are kept as prepared statements (diesel's own
    // `update` would be an unnamed statement, parsed and planned each time).
    let prepared = db
        .tx(&Scope::System, async |c| -> Result<_, StoreError> {
            pb_store::shifts::withdraw_offer(c, uuid::Uuid::new_v4(), uuid::Uuid::new_v4()).await?;
            pb_store::shifts::withdraw_offers(c, uuid::Uuid::new_v4()).await?;
            Ok(diesel::sql_query(
                "SELECT count(*) AS n FROM pg_prepared_statements \
                 WHERE NOT from_sql AND statement LIKE 'UPDATE shift_offers SET withdrawn_at = now()%'",
            )
            .get_result::<Count>(c)
            .await?
            .n)
        })
        .await
        .unwrap();
    assert_eq!(prepared, 2);
    drop(db);
    test_db.drop_database().await;
}
