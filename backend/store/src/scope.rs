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

    /// `BEGIN` and the scope's settings as one simple-protocol batch, so a
    /// scoped transaction opens in one round trip instead of two. The values
    /// are inlined, which is safe only because they are made here from
    /// `Uuid`s (hex digits and dashes) and fixed words, never from input.
    pub fn begin_sql(&self) -> String {
        let (kind, user, orgs) = self.settings();
        debug_assert!([kind, user.as_str(), orgs.as_str()]
            .iter()
            .all(|v| v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-,{}".contains(&b))));
        format!(
            "BEGIN; SELECT set_config('pb.scope', '{kind}', true), set_config('pb.user', '{user}', true), \
             set_config('pb.orgs', '{orgs}', true)"
        )
    }

    /// State this scope for the rest of the *session*. Only for a connection
    /// of its own that no one else uses (the event reader's, outside the
    /// pool), so that each of its reads is one statement without a
    /// transaction around it.
    pub async fn apply_to_session(&self, conn: &mut AsyncPgConnection) -> diesel::QueryResult<()> {
        self.set(conn, false).await
    }

    /// State this scope for the rest of the current transaction. Takes a
    /// shared connection, so it can be pipelined between other statements:
    /// those sent before it run in the old scope, those after in this one.
    pub async fn apply(&self, conn: &AsyncPgConnection) -> diesel::QueryResult<()> {
        self.set(conn, true).await
    }

    async fn set(&self, conn: &AsyncPgConnection, transaction_only: bool) -> diesel::QueryResult<()> {
        let (kind, user, orgs) = self.settings();
        diesel::sql_query(
            "SELECT set_config('pb.scope', $1, $4) IS NOT NULL, set_config('pb.user', $2, $4) IS NOT NULL, \
             set_config('pb.orgs', $3, $4) IS NOT NULL",
        )
        .bind::<Text, _>(kind)
        .bind::<Text, _>(user)
        .bind::<Text, _>(orgs)
        .bind::<diesel::sql_types::Bool, _>(transaction_only)
        .execute(&mut &*conn)
        .await
        .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inlined_begin_carries_only_ids_and_fixed_words() {
        assert_eq!(
            Scope::System.begin_sql(),
            "BEGIN; SELECT set_config('pb.scope', 'system', true), set_config('pb.user', '', true), \
             set_config('pb.orgs', '', true)"
        );
        let (u, o1, o2) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let sql = Scope::User { user_id: u, orgs: vec![o1, o2] }.begin_sql();
        assert!(sql.contains(&format!("set_config('pb.user', '{u}', true)")));
        assert!(sql.contains(&format!("set_config('pb.orgs', '{{{o1},{o2}}}', true)")));
        assert_eq!(sql.matches('\'').count(), 12, "six quoted literals, nothing else quoted: {sql}");
    }
}
