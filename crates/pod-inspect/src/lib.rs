//! pod-inspect: read an Airflow release on Kubernetes through `kubectl` and answer plainly:
//! is it healthy, are the DAGs there, what broke and how to fix it. The library never reads
//! argv or env, never touches stdin/stdout, never exits; `main.rs` does those.

pub mod cli;
pub mod dags;
pub mod diagnose;
pub mod fernet;
pub mod fix;
pub mod kubectl;
pub mod model;
pub mod status;
pub mod ui;
pub mod wait;

pub use kubectl::{Kubectl, decode_secret_data};

/// Parses a kubectl/helm-style duration: `15m`, `30s`, `1h`, `500ms`, `1h30m`, or bare seconds.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(std::time::Duration::from_secs(seconds));
    }
    let mut total = std::time::Duration::ZERO;
    let mut rest = text;
    if rest.is_empty() {
        return Err("empty duration; use e.g. `15m`, `30s`, `1h`".into());
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let number: u64 =
            rest[..digits].parse().map_err(|_| format!("`{text}` is not a duration; use e.g. `15m`, `30s`, `1h`"))?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        total += match unit {
            "ms" => std::time::Duration::from_millis(number),
            "s" => std::time::Duration::from_secs(number),
            "m" => std::time::Duration::from_secs(number * 60),
            "h" => std::time::Duration::from_secs(number * 3600),
            _ => return Err(format!("`{text}` has an unknown unit `{unit}`; use ms, s, m or h")),
        };
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("42"), Ok(Duration::from_secs(42)));
        assert!(parse_duration("5 minutes").is_err());
        assert!(parse_duration("").is_err());
    }
}
