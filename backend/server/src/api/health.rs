//! Liveness and readiness for load balancers and orchestrators.

use actix_web::{get, web, HttpResponse};
use diesel_async::RunQueryDsl;
use serde::Serialize;
use std::time::{Duration, Instant};
use utoipa::ToSchema;

use crate::state::AppState;

/// The process is up. Touches nothing else.
#[utoipa::path(tag = "health", responses((status = 200, description = "alive")))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Check {
    /// `ok` or `failing`.
    pub status: &'static str,
    pub latency_ms: Option<u64>,
    pub detail: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready` or `not_ready`.
    pub status: &'static str,
    pub database: Check,
    pub live_engine: Check,
}

const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

async fn probe_database(state: &AppState) -> Check {
    let started = Instant::now();
    let result = tokio::time::timeout(PROBE_TIMEOUT, async {
        let mut conn = state.db.conn().await.map_err(|e| e.to_string())?;
        diesel::sql_query("SELECT 1").execute(&mut conn).await.map_err(|e| e.to_string())
    })
    .await;
    match result {
        Ok(Ok(_)) => Check { status: "ok", latency_ms: Some(started.elapsed().as_millis() as u64), detail: None },
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: database failing");
            Check { status: "failing", latency_ms: None, detail: Some("database unreachable".into()) }
        }
        Err(_) => Check { status: "failing", latency_ms: None, detail: Some("database timed out".into()) },
    }
}

async fn probe_live_engine(state: &AppState) -> Check {
    let started = Instant::now();
    let engine = state.index.engine_name();
    let probe = async {
        let intact = state.index.is_intact().await?;
        let workers = state.index.people().await?;
        Ok::<_, pb_live::IndexError>((intact, workers))
    };
    match tokio::time::timeout(PROBE_TIMEOUT, probe).await {
        Ok(Ok((true, workers))) => Check {
            status: "ok",
            latency_ms: Some(started.elapsed().as_millis() as u64),
            detail: Some(format!("{engine} index, {workers} people")),
        },
        // Lost data is repaired by the next rebuild; until then matching is wrong.
        Ok(Ok((false, _))) => {
            Check { status: "failing", latency_ms: None, detail: Some(format!("{engine} index lost; rebuilding")) }
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: live engine failing");
            Check { status: "failing", latency_ms: None, detail: Some(format!("{engine} index unreachable")) }
        }
        Err(_) => Check { status: "failing", latency_ms: None, detail: Some(format!("{engine} index timed out")) },
    }
}

/// Ready to serve: the database and the live engine answer. 503 otherwise.
#[utoipa::path(tag = "health", responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let (database, live_engine) = tokio::join!(probe_database(&state), probe_live_engine(&state));
    let ready = database.status == "ok" && live_engine.status != "failing";
    let body = Readiness { status: if ready { "ready" } else { "not_ready" }, database, live_engine };
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
