//! WebSocket tickets are used once.
//!
//! A ticket is a short-lived signed token (`auth::jwt`, type
//! `ws-ticket+jwt`, 30 s), so issuing one and checking its signature need no
//! database. What remains is remembering which tickets were used, until
//! they expire: in this process when it runs alone, in Redis (`SET NX EX`,
//! the time to live reckoned on our clock) when instances share it, so a
//! ticket used on one instance is refused by every other. Without Redis only
//! one instance may run anyway (see ARCHITECTURE, Scale-out); its memory is
//! lost on a restart, so a ticket used in the last 30 seconds before one
//! could be used once more afterwards, by whoever holds it (the person
//! it was issued to, over the authenticated POST).

use std::collections::HashMap;
use std::sync::Mutex;
use uuid::Uuid;

/// Where used tickets are remembered.
pub enum UsedTickets {
    /// One process: ticket id -> expiry (Unix seconds).
    InProcess(Mutex<HashMap<Uuid, i64>>),
    /// Shared by every instance: `<prefix>:ws-ticket:<id>` until expiry.
    Redis { conn: Box<redis::aio::ConnectionManager>, prefix: String },
}

impl UsedTickets {
    pub fn in_process() -> Self {
        UsedTickets::InProcess(Mutex::new(HashMap::new()))
    }

    /// Record that ticket `id` (valid until `expires_at`, Unix seconds) is
    /// used now; `false` when it was used before. Expired tickets are refused
    /// by their signature check before they get here.
    pub async fn first_use(&self, id: Uuid, expires_at: i64) -> Result<bool, redis::RedisError> {
        // Kept a little past expiry: the signature check allows clock skew.
        let keep_until = expires_at + crate::auth::jwt::WS_TICKET_LEEWAY_SECS as i64 + 1;
        match self {
            UsedTickets::InProcess(used) => {
                let now = chrono::Utc::now().timestamp();
                let mut used = used.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                // Forget expired ones now and then; the map stays as small as
                // the tickets of the last half minute.
                if used.len() >= 1024 && used.len().is_power_of_two() {
                    used.retain(|_, until| *until >= now);
                }
                Ok(used.insert(id, keep_until).is_none())
            }
            UsedTickets::Redis { conn, prefix } => {
                let mut conn = (**conn).clone();
                // A time to live from our clock, not an instant on Redis's.
                let keep_for = (keep_until - chrono::Utc::now().timestamp()).max(1);
                let set: Option<String> = redis::cmd("SET")
                    .arg(format!("{prefix}:ws-ticket:{id}"))
                    .arg(1)
                    .arg("NX")
                    .arg("EX")
                    .arg(keep_for)
                    .query_async(&mut conn)
                    .await?;
                Ok(set.is_some())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_ticket_is_used_once_and_old_ones_are_forgotten() {
        let used = UsedTickets::in_process();
        let now = chrono::Utc::now().timestamp();
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        assert!(used.first_use(a, now + 30).await.unwrap());
        assert!(!used.first_use(a, now + 30).await.unwrap());
        assert!(used.first_use(b, now + 30).await.unwrap());
        // Long expired ones go when the map grows.
        for _ in 0..2000 {
            used.first_use(Uuid::new_v4(), now - 3600).await.unwrap();
        }
        let UsedTickets::InProcess(map) = &used else { unreachable!() };
        assert!(map.lock().unwrap().len() < 2000);
        assert!(!used.first_use(a, now + 30).await.unwrap(), "a live one is still remembered");
    }
}
