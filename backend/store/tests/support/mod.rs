//! What the store's integration tests share.

/// One line of an `EXPLAIN`.
#[derive(diesel::QueryableByName)]
pub struct PlanLine {
    #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
    pub line: String,
}

/// An `EXPLAIN`'s lines as one text.
pub fn joined(plan: Vec<PlanLine>) -> String {
    plan.into_iter().map(|l| l.line).collect::<Vec<_>>().join("\n")
}
