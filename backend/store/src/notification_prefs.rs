//! Each person's notification preferences: a mode per event kind (`instant`,
//! `digest`, `off`), quiet hours in local time, and the hour of the daily
//! digest. A person without a row has the defaults (the server knows them).

use chrono::{DateTime, NaiveTime, Utc};
use diesel::sql_types::{Jsonb, Nullable, SmallInt, Time, Timestamptz};
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::StoreError;

type SqlUuid = diesel::sql_types::Uuid;

#[derive(Debug, Clone, QueryableByName)]
pub struct Prefs {
    #[diesel(sql_type = SqlUuid)]
    pub user_id: Uuid,
    /// kind -> mode
    #[diesel(sql_type = Jsonb)]
    pub modes: serde_json::Value,
    #[diesel(sql_type = Nullable<Time>)]
    pub quiet_start: Option<NaiveTime>,
    #[diesel(sql_type = Nullable<Time>)]
    pub quiet_end: Option<NaiveTime>,
    #[diesel(sql_type = SmallInt)]
    pub digest_hour: i16,
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "user_id, modes, quiet_start, quiet_end, digest_hour, updated_at";

pub async fn find(conn: &mut AsyncPgConnection, user: Uuid) -> Result<Option<Prefs>, StoreError> {
    let rows: Vec<Prefs> = crate::prepared(format!("SELECT {COLUMNS} FROM notification_prefs WHERE user_id = $1"))
        .bind::<SqlUuid, _>(user)
        .load(conn)
        .await?;
    Ok(rows.into_iter().next())
}

/// The preferences of each of `users` that has a row, in one statement.
pub async fn find_many(conn: &AsyncPgConnection, users: &[Uuid]) -> Result<Vec<Prefs>, StoreError> {
    Ok(crate::prepared(format!("SELECT {COLUMNS} FROM notification_prefs WHERE user_id = ANY($1)"))
        .bind::<diesel::sql_types::Array<SqlUuid>, _>(users)
        .load(&mut &*conn)
        .await?)
}

/// Replace a person's preferences.
pub async fn upsert(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    modes: &serde_json::Value,
    quiet: Option<(NaiveTime, NaiveTime)>,
    digest_hour: i16,
) -> Result<Prefs, StoreError> {
    Ok(crate::prepared(format!(
        "INSERT INTO notification_prefs (user_id, modes, quiet_start, quiet_end, digest_hour) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id) DO UPDATE SET modes = EXCLUDED.modes, \
         quiet_start = EXCLUDED.quiet_start, quiet_end = EXCLUDED.quiet_end, digest_hour = EXCLUDED.digest_hour, \
         updated_at = now() RETURNING {COLUMNS}"
    ))
    .bind::<SqlUuid, _>(user)
    .bind::<Jsonb, _>(modes)
    .bind::<Nullable<Time>, _>(quiet.map(|q| q.0))
    .bind::<Nullable<Time>, _>(quiet.map(|q| q.1))
    .bind::<SmallInt, _>(digest_hour)
    .get_result(conn)
    .await?)
}
