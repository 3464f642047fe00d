//! Durations as Go's `time.ParseDuration` reads them (`10m`, `1h30m`, `1.5s`, `500ms`), the
//! way helm and kubectl take `--timeout`: one parser and one error wording for every tool.

use std::time::Duration;

use crate::error::Error;

/// Parses a Go duration. A unit is required after every number (`90` is refused, as helm
/// refuses it), and zero or negative durations are refused: nothing here waits for no time.
pub fn parse(text: &str) -> Result<Duration, Error> {
    let bad = |why: &str| {
        Error::bad_input(format!("`{text}` is not a duration: {why}"))
            .with_hint("write it as helm and kubectl do: `30s`, `10m`, `1h30m`, `500ms`")
    };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(bad("it is empty"));
    }
    if trimmed.starts_with('-') {
        return Err(bad("it is negative"));
    }
    let mut rest = trimmed.strip_prefix('+').unwrap_or(trimmed);
    let mut total = 0f64;
    while !rest.is_empty() {
        let number_end = rest.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(rest.len());
        let number = &rest[..number_end];
        if number.is_empty() || number == "." {
            return Err(bad("a number must come before each unit"));
        }
        let value: f64 = number.parse().map_err(|_| bad(&format!("`{number}` is not a number")))?;
        rest = &rest[number_end..];
        let unit_end = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let unit = &rest[..unit_end];
        let seconds_per_unit = match unit {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "" => return Err(bad(&format!("`{number}` has no unit (`{number}s`? `{number}m`?)"))),
            other => return Err(bad(&format!("unknown unit `{other}`; use ns, us, ms, s, m or h"))),
        };
        total += value * seconds_per_unit;
        rest = &rest[unit_end..];
    }
    if total <= 0.0 {
        return Err(bad("it is zero"));
    }
    Duration::try_from_secs_f64(total).map_err(|_| bad("it is too long"))
}

/// [`parse`] for clap's `value_parser`: the same wording, hint included.
pub fn parse_arg(text: &str) -> Result<Duration, String> {
    parse(text).map_err(|error| match &error.hint {
        Some(hint) => format!("{}\n\nhint: {hint}", error.message),
        None => error.message,
    })
}

/// A duration as Go prints it (`10m0s`, `1h30m0s`, `1.5s`, `500ms`), so what we pass to
/// helm reads back the same.
pub fn format(duration: Duration) -> String {
    let total = duration.as_secs();
    let millis = duration.subsec_millis();
    if total == 0 {
        return format!("{millis}ms");
    }
    let (hours, minutes, seconds) = (total / 3600, total % 3600 / 60, total % 60);
    let seconds = if millis == 0 {
        format!("{seconds}s")
    } else {
        format!("{seconds}.{}s", format!("{millis:03}").trim_end_matches('0'))
    };
    match (hours, minutes) {
        (0, 0) => seconds,
        (0, _) => format!("{minutes}m{seconds}"),
        _ => format!("{hours}h{minutes}m{seconds}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: Option<f64>) {
        match (parse(text), expected) {
            (Ok(duration), Some(seconds)) => assert_eq!(duration.as_secs_f64(), seconds, "{text}"),
            (Err(error), None) => {
                assert_eq!(error.code, crate::ExitCode::BadInput);
                assert!(error.message.starts_with(&format!("`{text}` is not a duration")), "{}", error.message);
                assert!(error.hint.is_some());
            }
            (got, want) => panic!("`{text}`: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn go_durations() {
        check("10m", Some(600.0));
        check("1h30m", Some(5400.0));
        check("1.5s", Some(1.5));
        check("500ms", Some(0.5));
        check("2h45m30s", Some(9930.0));
        check("+5s", Some(5.0));
        check(" 15m ", Some(900.0));
    }

    #[test]
    fn refused_everywhere_the_same_way() {
        for text in ["90", "", "0s", "-5m", "5 minutes", "m", "10x", "1.2.3s", ".s"] {
            check(text, None);
        }
        assert!(parse("90").expect_err("no unit").message.contains("has no unit"));
    }

    #[test]
    fn formats_as_go_does() {
        for (seconds, text) in [(600.0, "10m0s"), (5400.0, "1h30m0s"), (1.5, "1.5s"), (0.5, "500ms"), (45.0, "45s")] {
            assert_eq!(format(Duration::from_secs_f64(seconds)), text);
            assert_eq!(parse(text).expect("round trip").as_secs_f64(), seconds);
        }
    }
}
