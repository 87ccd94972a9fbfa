//! The Personeelsbank domain: the words of Dutch general practice staffing as
//! Rust types, and the rules that hold between them.
//!
//! Everything here is pure: no I/O, no clock reads, no async, no framework
//! types. Values are parsed at the edge (`BigNumber::parse`, `Postcode::parse`,
//! `Email::parse`) and trusted everywhere inside. Other crates depend on this
//! one, never the other way round.

pub mod availability;
pub mod calls;
pub mod geo;
pub mod hours;
pub mod identity;
pub mod matching;
pub mod roles;
pub mod secondment;
pub mod shift;
pub mod tenancy;

pub use geo::GeoPoint;
pub use identity::{BigNumber, Email, Language, Postcode};
pub use roles::{EmployerKind, EngagementType, MembershipRole, Profession, Register, RegistrationStatus};
pub use shift::TimeWindow;
