//! The pool hands out connections without a test query; a connection the
//! server closed while it sat idle must not fail the work that gets it.

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
