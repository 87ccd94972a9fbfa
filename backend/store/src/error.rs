//! Store errors. Database errors keep their SQLSTATE and constraint name so
//! the server can turn a unique violation into a 409 and an exclusion
//! violation into `worker_already_booked`, instead of a 500.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::pooled_connection::deadpool::PoolError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no free database connection in time")]
    PoolTimeout,
    #[error("database pool: {0}")]
    Pool(String),
    #[error("not found")]
    NotFound,
    #[error("constraint {constraint} violated")]
    Conflict { constraint: String, kind: ConflictKind },
    #[error("database: {0}")]
    Database(DieselError),
}

/// Which kind of constraint refused a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictKind {
    Unique,
    ForeignKey,
    Check,
    Exclusion,
    NotNull,
}

impl StoreError {
    /// The violated constraint's name, when a constraint refused the write.
    pub fn constraint(&self) -> Option<&str> {
        match self {
            StoreError::Conflict { constraint, .. } => Some(constraint),
            _ => None,
        }
    }
}

impl From<DieselError> for StoreError {
    fn from(e: DieselError) -> Self {
        match e {
            DieselError::NotFound => StoreError::NotFound,
            DieselError::DatabaseError(kind, ref info) => {
                let kind = match kind {
                    DatabaseErrorKind::UniqueViolation => Some(ConflictKind::Unique),
                    DatabaseErrorKind::ForeignKeyViolation => Some(ConflictKind::ForeignKey),
                    DatabaseErrorKind::CheckViolation => Some(ConflictKind::Check),
                    DatabaseErrorKind::NotNullViolation => Some(ConflictKind::NotNull),
                    DatabaseErrorKind::ExclusionViolation => Some(ConflictKind::Exclusion),
                    _ => None,
                };
                match (kind, info.constraint_name()) {
                    (Some(kind), Some(c)) => StoreError::Conflict { constraint: c.to_owned(), kind },
                    _ => StoreError::Database(e),
                }
            }
            other => StoreError::Database(other),
        }
    }
}

impl From<PoolError> for StoreError {
    fn from(e: PoolError) -> Self {
        match e {
            PoolError::Timeout(_) => StoreError::PoolTimeout,
            other => StoreError::Pool(other.to_string()),
        }
    }
}
