//! Every migration reverts cleanly: for each migration in order, the schema
//! after `up` then `down` is exactly the schema before `up` (compared with
//! `pg_dump --schema-only`, privileges and policies included).

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use pb_store::provision::{self, bootstrap_roles, ensure_database, url_with, TEST_APP_ROLE, TEST_OWNER_ROLE};
use pb_store::{migrate, migrate::MIGRATIONS};

async fn schema_dump(url: &str) -> String {
    let bin = provision::find_pg_bin_dir().expect("pg binaries");
    let out = tokio::process::Command::new(bin.join("pg_dump"))
        .args(["--schema-only", "--no-comments", "--exclude-table=__diesel_schema_migrations", url])
        .output()
        .await
        .expect("pg_dump runs");
    assert!(out.status.success(), "pg_dump failed: {}", String::from_utf8_lossy(&out.stderr));
    // Drop pg_dump's comments and version-specific psql meta-commands.
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| {
            !l.starts_with("--")
                && !l.contains("pg_dump")
                && !l.starts_with("\\restrict")
                && !l.starts_with("\\unrestrict")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_migration_reverts_exactly() {
    let admin = provision::test_admin_url();
    bootstrap_roles(&admin, TEST_OWNER_ROLE, TEST_APP_ROLE).await.unwrap();
    let name = format!(
        "pb_test_{}_{}",
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs(),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    assert!(ensure_database(&admin, &name, TEST_OWNER_ROLE).await.unwrap());
    let owner = url_with(&admin, TEST_OWNER_ROLE, &name);

    use diesel::migration::MigrationSource;
    let total = MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS).unwrap().len();
    assert!(total >= 1);
    for step in 0..total {
        let before = schema_dump(&owner).await;
        let applied = migrate::run_next(&owner).await.unwrap().expect("a pending migration");
        let after_up = schema_dump(&owner).await;
        assert_ne!(before, after_up, "migration {applied} changed nothing");
        let reverted = migrate::revert_last(&owner).await.unwrap();
        assert_eq!(reverted, applied);
        let after_down = schema_dump(&owner).await;
        assert!(before == after_down, "down.sql of {applied} (step {step}) does not restore the schema exactly");
        migrate::run_next(&owner).await.unwrap();
    }
    assert_eq!(migrate::run_next(&owner).await.unwrap(), None, "all applied");

    let mut conn = AsyncPgConnection::establish(&admin).await.unwrap();
    diesel::sql_query(format!("DROP DATABASE \"{name}\" WITH (FORCE)")).execute(&mut conn).await.unwrap();
}
