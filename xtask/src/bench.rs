//! Placeholder replaced below.
use anyhow::Result;
pub fn pages(_args: &[&str]) -> Result<()> {
    anyhow::bail!("not yet")
}
