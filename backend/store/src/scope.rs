//! The row-level-security scope of a transaction.
//!
//! Every transaction the application opens states who is asking, through
//! transaction-local settings read by the policies in the migrations:
//! `pb.scope`, `pb.user` and `pb.orgs`. A connection used without a scope sees
//! no tenant rows at all, so a forgotten scope fails closed.
//!
//! `Scope::System` is for work that is not on behalf of one caller: login
//! (before we know who it is), background jobs, demo seeding, matching across
//! tenants. Handlers acting for a signed-in user must use `Scope::User`.

use diesel::sql_types::Text;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    System,
    User { user_id: Uuid, orgs: Vec<Uuid> },
}

impl Scope {
    fn settings(&self) -> (&'static str, String, String) {
        match self {
            Scope::System => ("system", String::new(), String::new()),
            Scope::User { user_id, orgs } => {
                let list = orgs.iter().map(Uuid::to_string).collect::<Vec<_>>().join(",");
                ("user", user_id.to_string(), format!("{{{list}}}"))
            }
        }
    }

    /// State this scope for the rest of the current transaction.
    pub async fn apply(&self, conn: &mut AsyncPgConnection) -> diesel::QueryResult<()> {
        let (kind, user, orgs) = self.settings();
        diesel::sql_query(
            "SELECT set_config('pb.scope', $1, true) IS NOT NULL, set_config('pb.user', $2, true) IS NOT NULL, \
             set_config('pb.orgs', $3, true) IS NOT NULL",
        )
        .bind::<Text, _>(kind)
        .bind::<Text, _>(user)
        .bind::<Text, _>(orgs)
        .execute(conn)
        .await
        .map(|_| ())
    }
}
