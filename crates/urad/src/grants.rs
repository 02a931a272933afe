//! Wiring of the grants robot (`urad-grants`): its registries from the configuration, and the
//! worker that decides received applications of every call. See docs/grants.md.

use anyhow::Context as _;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use urad_core::Clock;
use urad_grants::robot::Robot;
use urad_grants::{FileRegistry, Programme};
use urad_store::Db;

/// How often the robot looks for new applications when idle.
const ROBOT_EVERY: Duration = Duration::from_secs(1);
/// Applications a round decides per call: one transaction each.
const BATCH: i64 = 500;
/// A registry lookup that takes longer is no answer (`manual_review`).
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// The robot over `programmes`, consulting the registry file (REGISTRY.json format) when one
/// is configured. Without one every lookup answers "unavailable": the robot then sends every
/// application to a person rather than guess.
pub fn robot(programmes: Arc<Vec<Programme>>, registry: Option<&Path>) -> anyhow::Result<Robot> {
    let registry = match registry {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the grant registry {}", path.display()))?;
            FileRegistry::from_json(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        }
        None => {
            tracing::warn!(
                "URAD_GRANT_REGISTRY is not set: the grants robot has no registry and sends \
                 every application to manual review"
            );
            FileRegistry::default()
        }
    };
    let registry = Arc::new(registry);
    Ok(Robot::new(
        programmes,
        registry.clone(),
        registry,
        LOOKUP_TIMEOUT,
    ))
}

/// Runs the robot until the process ends; a failed round is logged and retried.
pub fn spawn_worker(
    robot: Arc<Robot>,
    db: Db,
    clock: Arc<dyn Clock>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match robot.run_once(&db, clock.as_ref(), BATCH).await {
                // A full batch somewhere: more are waiting, go on at once.
                Ok(decided) if decided as i64 >= BATCH => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "the grants robot's round failed; retrying"),
            }
            tokio::time::sleep(ROBOT_EVERY).await;
        }
    })
}
