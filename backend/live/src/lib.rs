//! The live layer: what must be fast and shared between server instances, and
//! may be lost at any time because Postgres can rebuild it.
//!
//! - [`bus`]: pokes between instances ("recipients X and Y have new events");
//!   fire-and-forget, the event log in Postgres is the truth.
//! - [`index`]: who is available where and when, to narrow matching before
//!   the domain rules decide (the index never decides fit itself).
//!
//! Two implementations of each: in-process (a single node, no Redis) and
//! Redis (several instances). Both pass the same conformance tests.

pub mod bus;
pub mod index;

pub use bus::{Bus, BusError, InProcessBus, Poke, RedisBus};
pub use index::{AvailabilityIndex, InProcessIndex, IndexConfig, IndexError, RedisIndex};

/// A Redis connection that fails fast while Redis is away.
///
/// `redis`'s `ConnectionManager` reconnects by itself, but by default it
/// tries six times with delays doubling from 200 ms (some 12 s) and has no
/// timeouts, and every command sent meanwhile waits for that: a request
/// that asks the index while Redis is down hung for more than 30 s. Here a
/// lost connection is retried twice (50 and 100 ms) and then the command
/// fails, so the caller falls back (a call is posted and matched later, a
/// poke is left to the hubs' polling); the next command tries again. A
/// connection attempt gives up after 2 s, a command after 10 s (a rebuild's
/// largest pipeline takes well under that).
pub async fn connect_redis(client: redis::Client) -> redis::RedisResult<redis::aio::ConnectionManager> {
    let config = redis::aio::ConnectionManagerConfig::new()
        .set_number_of_retries(2)
        .set_exponent_base(2)
        .set_factor(25)
        .set_max_delay(500)
        .set_connection_timeout(std::time::Duration::from_secs(2))
        .set_response_timeout(std::time::Duration::from_secs(10));
    redis::aio::ConnectionManager::new_with_config(client, config).await
}
