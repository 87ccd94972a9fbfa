//! The database's second wall, tested directly: row-level security and the
//! privileges of the application role, through `pb_store` on the app's own
//! pool (`app.state.db`, connected as `pb_test_app`), without HTTP.
//!
//! What this wall is for: it catches a handler that forgot to scope a query,
//! or a query that filters on the wrong column, by returning no rows of other
//! tenants (and refusing to write them). What it is not for: SQL injection or
//! any other way of running arbitrary SQL as the app role. That role may call
//! `SELECT set_config('pb.scope', 'system', true)` itself - by design, since
//! the application is trusted to state its own scope (`Scope::System` is
//! exactly that call) - so whoever controls the app's SQL controls its scope.
//! Injection is kept out by diesel's bound parameters, not by RLS.

use crate::support::*;
use diesel::sql_types::{BigInt, Bool, Text};
use diesel::QueryableByName;
use diesel_async::{AnsiTransactionManager, AsyncConnection, AsyncPgConnection, RunQueryDsl, TransactionManager};
use pb_store::{Db, Scope, StoreError};
use uuid::Uuid;

const KOP: &str = "kop-noord-holland";
const ZUID: &str = "zuid-kennemerland";

/// Tables holding tenant data, every one of which must have RLS enabled.
const TENANT_TABLES: [&str; 10] = [
    "sharing_agreements",
    "hagros",
    "practices",
    "memberships",
    "worker_profiles",
    "registrations",
    "background_checks",
    "invitations",
    "refresh_tokens",
    "audit_log",
];

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The outcome of one statement in a transaction that is always rolled back.
enum Attempt {
    Done(usize),
    Failed(String),
    Store(StoreError),
}

impl From<StoreError> for Attempt {
    fn from(e: StoreError) -> Self {
        Attempt::Store(e)
    }
}

/// Run `sql` under `scope` in a transaction that is rolled back afterwards:
/// the affected row count, or Postgres' error message.
async fn attempt(db: &Db, scope: &Scope, sql: &str) -> Result<usize, String> {
    let outcome = db
        .tx(scope, async |c| -> Result<(), Attempt> {
            Err(match diesel::sql_query(sql).execute(c).await {
                Ok(n) => Attempt::Done(n),
                Err(e) => Attempt::Failed(e.to_string()),
            })
        })
        .await;
    match outcome {
        Err(Attempt::Done(n)) => Ok(n),
        Err(Attempt::Failed(e)) => Err(e),
        Err(Attempt::Store(e)) => panic!("{sql}: could not open the transaction: {e}"),
        Ok(()) => unreachable!(),
    }
}

/// `SELECT count(*) AS n ...` under `scope`.
async fn count(db: &Db, scope: &Scope, sql: &str) -> i64 {
    db.tx(scope, async |c| -> Result<i64, StoreError> { Ok(diesel::sql_query(sql).get_result::<Count>(c).await?.n) })
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn owner_conn(app: &TestApp) -> AsyncPgConnection {
    AsyncPgConnection::establish(&app.db.owner_url).await.expect("owner connection")
}

async fn owner_count(app: &TestApp, sql: &str) -> i64 {
    diesel::sql_query(sql)
        .get_result::<Count>(&mut owner_conn(app).await)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .n
}

/// Make sure the otherwise empty tables have rows: a login (refresh token)
/// and an invitation (invitation and audit rows), through the app itself.
async fn some_activity(app: &TestApp) {
    let token = app.login("coordinator.kop@demo.personeelsbank.nl").await;
    let kop = app.org_id(KOP).await;
    let r = app
        .post(
            "/api/v1/invitations",
            Some(&token),
            serde_json::json!({ "email": "nieuw@example.nl", "role": "worker", "organisation_id": kop }),
        )
        .await;
    assert_eq!(r.status, reqwest::StatusCode::CREATED, "{}", r.text);
}

#[actix_web::test]
async fn app_role_is_unprivileged_and_owns_nothing() {
    #[derive(QueryableByName)]
    struct Me {
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = Bool)]
        rolcreaterole: bool,
        #[diesel(sql_type = Bool)]
        rolcreatedb: bool,
    }
    let app = TestApp::spawn().await;
    let me = app
        .state
        .db
        .tx(&Scope::System, async |c| -> Result<Me, StoreError> {
            Ok(diesel::sql_query(
                "SELECT current_user::text AS name, r.rolcreaterole, r.rolcreatedb FROM pg_roles r WHERE r.rolname = current_user",
            )
            .get_result(c)
            .await?)
        })
        .await
        .unwrap();
    assert_eq!(me.name, "pb_test_app");
    assert!(!me.rolcreaterole && !me.rolcreatedb);
    // Not a superuser, not BYPASSRLS, no member of either, and owns nothing
    // in the schema, itself or through a role it belongs to (the check the
    // server makes at start, which `the_server_refuses_to_run_as_...` shows refusing).
    pb_store::provision::check_app_role_confined(&app.db.app_url).await.expect("the app role is confined");

    // Every tenant table has RLS switched on.
    for table in TENANT_TABLES {
        let on = owner_count(
            &app,
            &format!(
                "SELECT count(*) AS n FROM pg_class WHERE oid = 'public.{table}'::regclass AND relrowsecurity \
                 AND EXISTS (SELECT FROM pg_policies WHERE schemaname = 'public' AND tablename = '{table}')"
            ),
        )
        .await;
        assert_eq!(on, 1, "{table}: row-level security is not enabled with a policy");
    }
    app.stop().await;
}

#[actix_web::test]
async fn a_connection_without_scope_sees_no_tenant_rows() {
    let app = TestApp::spawn().await;
    some_activity(&app).await;
    let db = &app.state.db;

    let mut conn = db.conn().await.unwrap();
    for table in TENANT_TABLES {
        let sql = format!("SELECT count(*) AS n FROM {table}");
        let unscoped = diesel::sql_query(&sql).get_result::<Count>(&mut *conn).await.unwrap().n;
        assert_eq!(unscoped, 0, "{table}: rows visible without a scope");
        assert!(count(db, &Scope::System, &sql).await > 0, "{table}: empty even for the system scope");
    }
    let own = "SELECT count(*) AS n FROM audit_log_of_subject";
    assert_eq!(
        diesel::sql_query(own).get_result::<Count>(&mut *conn).await.unwrap().n,
        0,
        "{own}: rows without a scope"
    );

    // The scope is transaction-local: once committed, the same connection is blind again.
    let conn: &mut AsyncPgConnection = &mut conn;
    AnsiTransactionManager::begin_transaction(conn).await.unwrap();
    Scope::System.apply(conn).await.unwrap();
    let inside = diesel::sql_query("SELECT count(*) AS n FROM practices").get_result::<Count>(conn).await.unwrap().n;
    AnsiTransactionManager::commit_transaction(conn).await.unwrap();
    let after = diesel::sql_query("SELECT count(*) AS n FROM practices").get_result::<Count>(conn).await.unwrap().n;
    assert!(inside > 0);
    assert_eq!(after, 0, "the system scope outlived its transaction");
    app.stop().await;
}

#[actix_web::test]
async fn a_connection_without_scope_sees_no_users() {
    let app = TestApp::spawn().await;
    let mut conn = app.state.db.conn().await.unwrap();
    let n = diesel::sql_query("SELECT count(*) AS n FROM users").get_result::<Count>(&mut *conn).await.unwrap().n;
    assert_eq!(n, 0, "users visible without a scope");
    app.stop().await;
}

#[actix_web::test]
async fn a_user_scope_confines_reads_and_writes_to_its_tenant() {
    let app = TestApp::spawn().await;
    let db = &app.state.db;
    let kop = app.org_id(KOP).await;
    let zuid = app.org_id(ZUID).await;
    let coordinator = app.user_id("coordinator.zuid@demo.personeelsbank.nl").await;
    let zuid_scope = Scope::User { user_id: coordinator, orgs: vec![zuid] };

    // Reads: exactly Zuid's practices.
    let owner_zuid = owner_count(&app, &format!("SELECT count(*) AS n FROM practices WHERE org_id = '{zuid}'")).await;
    assert!(owner_zuid > 0);
    assert_eq!(count(db, &zuid_scope, "SELECT count(*) AS n FROM practices").await, owner_zuid);
    assert_eq!(
        count(db, &zuid_scope, &format!("SELECT count(*) AS n FROM practices WHERE org_id <> '{zuid}'")).await,
        0
    );
    let kop_practices = app.owner_query_ids(&format!("SELECT id FROM practices WHERE org_id = '{kop}'")).await;
    assert!(!kop_practices.is_empty());
    for id in &kop_practices {
        let sql = format!("SELECT count(*) AS n FROM practices WHERE id = '{id}'");
        assert_eq!(count(db, &zuid_scope, &sql).await, 0, "Kop practice {id} readable in Zuid's scope");
    }
    for table in ["hagros", "invitations", "background_checks"] {
        let sql = format!("SELECT count(*) AS n FROM {table} WHERE org_id = '{kop}'");
        assert_eq!(count(db, &zuid_scope, &sql).await, 0, "{table}: Kop rows readable in Zuid's scope");
    }
    let poh = app.user_id("poh.ggz@demo.personeelsbank.nl").await;
    for table in ["worker_profiles", "registrations", "memberships"] {
        let sql = format!("SELECT count(*) AS n FROM {table} WHERE user_id = '{poh}'");
        assert_eq!(count(db, &zuid_scope, &sql).await, 0, "{table}: a Kop worker's rows readable in Zuid's scope");
    }

    // Writes: an INSERT into Kop is refused by the policy's check ...
    let insert = |org: Uuid| {
        format!(
            "INSERT INTO practices (org_id, name, street, house_number, postcode, city, latitude, longitude) \
             VALUES ('{org}', 'Praktijk Indringer', 'Spoorstraat', '1', '1781 JC', 'Den Helder', 52.95, 4.76)"
        )
    };
    let err = attempt(db, &zuid_scope, &insert(kop)).await.expect_err("inserting a Kop practice as Zuid");
    assert!(err.contains("row-level security"), "{err}");
    assert_eq!(attempt(db, &zuid_scope, &insert(zuid)).await, Ok(1), "control: Zuid may add its own practice");

    // ... and UPDATE and DELETE simply do not find Kop's rows.
    let kop_practice = kop_practices[0];
    let update = format!("UPDATE practices SET name = 'Overgenomen' WHERE id = '{kop_practice}'");
    assert_eq!(attempt(db, &zuid_scope, &update).await, Ok(0));
    assert_eq!(attempt(db, &Scope::System, &update).await, Ok(1), "control: the statement itself works");
    let update_all = format!("UPDATE practices SET phone = '0' WHERE org_id = '{kop}'");
    assert_eq!(attempt(db, &zuid_scope, &update_all).await, Ok(0));
    // Moving one's own practice into Kop is refused too (USING doubles as WITH CHECK).
    let zuid_practice =
        app.owner_query_ids(&format!("SELECT id FROM practices WHERE org_id = '{zuid}' LIMIT 1")).await[0];
    let hijack = format!("UPDATE practices SET org_id = '{kop}', hagro_id = NULL WHERE id = '{zuid_practice}'");
    let err = attempt(db, &zuid_scope, &hijack).await.expect_err("moving a practice to Kop");
    assert!(err.contains("row-level security"), "{err}");

    let kop_hagro = app.owner_query_ids(&format!("SELECT id FROM hagros WHERE org_id = '{kop}' LIMIT 1")).await[0];
    assert_eq!(attempt(db, &zuid_scope, &format!("DELETE FROM hagros WHERE id = '{kop_hagro}'")).await, Ok(0));
    assert_eq!(attempt(db, &zuid_scope, &format!("DELETE FROM hagros WHERE org_id = '{kop}'")).await, Ok(0));
    assert_eq!(attempt(db, &zuid_scope, &format!("DELETE FROM invitations WHERE org_id = '{kop}'")).await, Ok(0));
    assert_eq!(
        attempt(db, &zuid_scope, &format!("UPDATE worker_profiles SET phone = '0' WHERE user_id = '{poh}'")).await,
        Ok(0)
    );
    // Nothing changed.
    assert_eq!(
        owner_count(&app, &format!("SELECT count(*) AS n FROM practices WHERE org_id = '{kop}'")).await,
        kop_practices.len() as i64
    );
    assert_eq!(
        owner_count(&app, "SELECT count(*) AS n FROM practices WHERE name IN ('Praktijk Indringer', 'Overgenomen')")
            .await,
        0
    );
    app.stop().await;
}

#[actix_web::test]
async fn audit_log_is_append_only() {
    let app = TestApp::spawn().await;
    some_activity(&app).await;
    let db = &app.state.db;
    let rows = count(db, &Scope::System, "SELECT count(*) AS n FROM audit_log").await;
    assert!(rows > 0);

    // The app role may insert (the app writes the log) but never change or remove.
    for sql in ["UPDATE audit_log SET outcome = 'denied'", "DELETE FROM audit_log", "TRUNCATE audit_log"] {
        let err = attempt(db, &Scope::System, sql).await.expect_err(sql);
        assert!(err.contains("permission denied"), "{sql}: {err}");
    }

    // Even the owner, who has every privilege and is exempt from RLS, meets the trigger.
    let mut owner = owner_conn(&app).await;
    for sql in ["UPDATE audit_log SET outcome = 'denied'", "DELETE FROM audit_log"] {
        let err = diesel::sql_query(sql).execute(&mut owner).await.expect_err(sql).to_string();
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
    assert_eq!(owner_count(&app, "SELECT count(*) AS n FROM audit_log").await, rows);
    assert_eq!(owner_count(&app, "SELECT count(*) AS n FROM audit_log WHERE outcome = 'denied'").await, 0);
    app.stop().await;
}

#[actix_web::test]
async fn an_audit_row_naming_several_people_shows_each_of_them_only_their_own_place() {
    let app = TestApp::spawn().await;
    let db = &app.state.db;
    let kop = app.org_id(KOP).await;
    let zuid = app.org_id(ZUID).await;
    let locum = app.user_id("locum.gp@demo.personeelsbank.nl").await;
    let poh = app.user_id("poh.ggz@demo.personeelsbank.nl").await;
    let assistant = app.user_id("assistent@demo.personeelsbank.nl").await;
    let manager = app.user_id("praktijk.denhelder@demo.personeelsbank.nl").await;
    let manager_scope = Scope::User { user_id: manager, orgs: vec![kop] };
    let agreement = Uuid::new_v4();
    let listing = |actor: Uuid| {
        format!(
            "INSERT INTO audit_log (action, actor_user_id, on_behalf_of_org_id, outcome, subject_user_ids, agreement_ids) \
             VALUES ('candidate.list', '{actor}', '{kop}', 'allowed', '{{{locum},{poh}}}', '{{NULL,{agreement}}}')"
        )
    };
    assert_eq!(attempt(db, &manager_scope, &listing(manager)).await, Ok(1));
    // Written in another's name, it is refused like any other audit row.
    let err = attempt(db, &manager_scope, &listing(locum)).await.expect_err("forged actor");
    assert!(err.contains("row-level security"), "{err}");
    // A row names one person or several, never both; a list is never empty,
    // and there are no agreements without the people they were for.
    let (subjects, agreements, plain) =
        ("audit_log_subjects_check", "audit_log_agreements_beside_subjects", "audit_log_lists_are_plain");
    let rejected = [
        ("one subject and several", "subject_user_id, subject_user_ids", format!("'{locum}', '{{{poh}}}'"), subjects),
        ("an empty list", "subject_user_ids", "'{}'".to_string(), subjects),
        ("a hole in the list", "subject_user_ids", format!("'{{{locum},NULL}}'"), subjects),
        ("agreements for nobody", "agreement_ids", format!("'{{{agreement}}}'"), agreements),
        ("a list counted from 0", "subject_user_ids", format!("'[0:1]={{{locum},{poh}}}'"), plain),
        (
            "agreements in two dimensions",
            "subject_user_ids, agreement_ids",
            format!("'{{{locum},{poh}}}', '{{{{{agreement}}},{{NULL}}}}'"),
            plain,
        ),
    ];
    for (what, columns, values, constraint) in rejected {
        let sql = format!(
            "INSERT INTO audit_log (action, actor_user_id, outcome, {columns}) VALUES ('x', '{manager}', 'allowed', {values})"
        );
        let err = attempt(db, &Scope::System, &sql).await.expect_err(what);
        assert!(err.contains(constraint), "{what}: {err}");
    }
    let insert = listing(manager);
    db.tx(&manager_scope, async |c| -> Result<usize, StoreError> { Ok(diesel::sql_query(&insert).execute(c).await?) })
        .await
        .unwrap();

    // Through the table, only those it was done on behalf of read the row
    // whole: the people named in it cannot, so none of them learns whom they
    // were listed with or under which agreements.
    let named = "SELECT count(*) AS n FROM audit_log WHERE subject_user_ids IS NOT NULL";
    let person = |user_id: Uuid| Scope::User { user_id, orgs: vec![] };
    assert_eq!(count(db, &manager_scope, named).await, 1, "done on behalf of the Kop");
    assert_eq!(count(db, &person(locum), named).await, 0, "the locum reads no list");
    assert_eq!(count(db, &person(poh), named).await, 0, "nor does the POH");
    let zuid_coordinator = app.user_id("coordinator.zuid@demo.personeelsbank.nl").await;
    assert_eq!(count(db, &Scope::User { user_id: zuid_coordinator, orgs: vec![zuid] }, named).await, 0);

    // Through the view, each person named finds the row as theirs alone, with
    // the agreement they were shown under.
    let own = |who: Uuid, agreement: Option<Uuid>| {
        let agreement = agreement.map_or("IS NULL".to_string(), |a| format!("= '{a}'"));
        format!(
            "SELECT count(*) AS n FROM audit_log_of_subject WHERE action = 'candidate.list' \
             AND subject_user_id = '{who}' AND agreement_id {agreement} AND on_behalf_of_org_id = '{kop}'"
        )
    };
    assert_eq!(count(db, &person(locum), &own(locum, None)).await, 1, "the locum, shown under no agreement");
    assert_eq!(count(db, &person(poh), &own(poh, Some(agreement))).await, 1, "the POH, under the agreement");
    let any = "SELECT count(*) AS n FROM audit_log_of_subject WHERE action = 'candidate.list'";
    assert_eq!(count(db, &person(assistant), any).await, 0, "the assistant is not named");
    assert_eq!(count(db, &manager_scope, any).await, 0, "the view is a person's own, not a coordinator's");
    assert_eq!(count(db, &Scope::System, any).await, 0, "the system scope names nobody");
    let err =
        attempt(db, &person(locum), "SELECT subject_user_ids FROM audit_log_of_subject").await.expect_err("the list");
    assert!(err.contains("does not exist"), "{err}");
    // The view is a security barrier (no condition of the caller's runs
    // before its own), and it is for reading only.
    let barrier = "SELECT count(*) AS n FROM pg_class WHERE oid = 'audit_log_of_subject'::regclass \
                   AND reloptions @> ARRAY['security_barrier=true']";
    assert_eq!(owner_count(&app, barrier).await, 1, "audit_log_of_subject is not a security barrier");
    for privilege in ["INSERT", "UPDATE", "DELETE", "TRUNCATE"] {
        let held = format!(
            "SELECT count(*) AS n FROM (SELECT 1) x WHERE has_table_privilege('pb_app', 'audit_log_of_subject', '{privilege}')"
        );
        assert_eq!(owner_count(&app, &held).await, 0, "pb_app may {privilege} through the view");
    }
    let err = attempt(db, &person(locum), "INSERT INTO audit_log_of_subject (action, outcome) VALUES ('x', 'allowed')")
        .await
        .expect_err("writing through the view");
    assert!(err.contains("permission denied"), "{err}");
    app.stop().await;
}

#[actix_web::test]
async fn the_server_refuses_to_run_as_a_role_that_row_level_security_does_not_bind() {
    use pb_store::provision::check_app_role_confined;
    let app = TestApp::spawn().await;
    // The schema's owner is exempt from its tables' policies.
    let err = check_app_role_confined(&app.db.owner_url).await.expect_err("the owner").to_string();
    assert!(err.contains("refusing to use role `pb_test_owner`") && err.contains("owns"), "{err}");
    // The server will not start on it: building the state fails before any pool is made.
    let err = personeelsbank::serve::build_state(app.state.config.clone(), &app.db.owner_url)
        .await
        .err()
        .expect("a server on the owner's connection");
    assert!(format!("{err:#}").contains("refusing to use role `pb_test_owner`"), "{err:#}");

    // The tests' admin role, when it is a superuser (as in CI and the README's set-up).
    let mut admin = AsyncPgConnection::establish(app.db.admin_url()).await.expect("admin connection");
    let superuser = diesel::sql_query("SELECT count(*) AS n FROM pg_roles WHERE rolname = current_user AND rolsuper")
        .get_result::<Count>(&mut admin)
        .await
        .unwrap()
        .n;
    if superuser == 1 {
        let err = check_app_role_confined(app.db.admin_url()).await.expect_err("a superuser").to_string();
        assert!(err.contains("superuser"), "{err}");
    }
    app.stop().await;
}

#[actix_web::test]
async fn app_role_cannot_change_the_schema_or_step_around_rls() {
    let app = TestApp::spawn().await;
    let db = &app.state.db;
    let cases = [
        ("CREATE TABLE stash (x int)", "permission denied"),
        ("ALTER TABLE practices DISABLE ROW LEVEL SECURITY", "must be owner"),
        ("ALTER TABLE practices ADD COLUMN x int", "must be owner"),
        ("DROP POLICY practices_scope ON practices", "must be owner"),
        ("CREATE POLICY open_door ON practices USING (true)", "must be owner"),
        ("DROP TRIGGER audit_log_append_only ON audit_log", "must be owner"),
        ("SET LOCAL ROLE pb_test_owner", "permission denied"),
    ];
    for (sql, expected) in cases {
        let err = attempt(db, &Scope::System, sql).await.expect_err(sql);
        assert!(err.contains(expected), "{sql}: {err}");
    }
    // Turning row security off does not show everything: the query is refused.
    let mut conn = db.conn().await.unwrap();
    diesel::sql_query("SET row_security = off").execute(&mut *conn).await.unwrap();
    let err = diesel::sql_query("SELECT count(*) AS n FROM practices")
        .get_result::<Count>(&mut *conn)
        .await
        .err()
        .expect("a query under row_security = off");
    assert!(err.to_string().contains("row-level security"), "{err}");
    diesel::sql_query("RESET row_security").execute(&mut *conn).await.unwrap();
    app.stop().await;
}
