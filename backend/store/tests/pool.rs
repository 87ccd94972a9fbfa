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
struct PlanLine {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    line: String,
}

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    mode: String,
}

/// The plan PostgreSQL would run for the next execution of the prepared
/// statement `by_ids` on this connection, one line.
async fn next_plan(c: &mut AsyncPgConnection) -> Result<String, StoreError> {
    let lines: Vec<PlanLine> = diesel::sql_query("EXPLAIN EXECUTE by_ids(ARRAY[gen_random_uuid()])").load(c).await?;
    Ok(lines.into_iter().map(|l| l.line).collect::<Vec<_>>().join(" "))
}

async fn plan_cache_mode(c: &mut AsyncPgConnection) -> Result<String, StoreError> {
    Ok(diesel::sql_query("SELECT current_setting('plan_cache_mode') AS mode").get_result::<Setting>(c).await?.mode)
}

/// `= ANY($1)` over ids is planned again on every execution by default (the
/// custom plan for the array at hand always looks cheaper than the generic
/// one); inside `tx_of_lookups` the generic plan is used from the first
/// execution, and the setting ends with that transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_of_lookups_plans_each_statement_once_and_only_that_transaction() {
    let test_db = provision::create_test_database().await.unwrap();
    // One connection, so every transaction below shares the session and its
    // prepared statement.
    let db = Db::connect(&test_db.app_url, &PoolSettings { max_size: 1, ..Default::default() }).unwrap();
    db.tx(&Scope::System, async |c| -> Result<(), StoreError> {
        diesel::sql_query("PREPARE by_ids(uuid[]) AS SELECT id FROM users WHERE id = ANY($1)").execute(c).await?;
        Ok(())
    })
    .await
    .unwrap();

    let (mode, plans) = db
        .tx(&Scope::System, async |c| -> Result<_, StoreError> {
            let mut plans = Vec::new();
            // Past the five custom plans after which PostgreSQL may settle on a generic one.
            for _ in 0..8 {
                plans.push(next_plan(c).await?);
                diesel::sql_query("EXECUTE by_ids(ARRAY[gen_random_uuid()])").execute(c).await?;
            }
            Ok((plan_cache_mode(c).await?, plans))
        })
        .await
        .unwrap();
    assert_eq!(mode, "auto");
    for plan in &plans {
        assert!(!plan.contains("$1"), "by default every execution gets a custom plan for its array: {plan}");
    }

    let (mode, plan) = db
        .tx_of_lookups(&Scope::System, async |c| -> Result<_, StoreError> {
            Ok((plan_cache_mode(c).await?, next_plan(c).await?))
        })
        .await
        .unwrap();
    assert_eq!(mode, "force_generic_plan");
    assert!(plan.contains("ANY ($1)"), "one generic plan, made once for the connection: {plan}");

    let (mode, plan) = db
        .tx(&Scope::System, async |c| -> Result<_, StoreError> { Ok((plan_cache_mode(c).await?, next_plan(c).await?)) })
        .await
        .unwrap();
    assert_eq!(mode, "auto", "the setting ended with the transaction of lookups");
    assert!(!plan.contains("$1"), "{plan}");
    drop(db);
    test_db.drop_database().await;
}
