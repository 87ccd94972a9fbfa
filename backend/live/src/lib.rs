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
