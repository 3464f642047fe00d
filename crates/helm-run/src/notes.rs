//! The warnings the Airflow chart prints in its NOTES, classified by the failure they lead to,
//! and a view of the NOTES safe to print (the chart prints the UI password there).

use serde::{Deserialize, Serialize};

/// One warning found in the NOTES: an item of the reports' `notes_warnings`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotesWarning {
    pub kind: NotesWarningKind,
    /// The failure in docs/failures.md it leads to, when there is one.
    pub failure: Option<String>,
    /// The warning's line, with any password removed.
    pub text: String,
}

/// What a NOTES warning is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NotesWarningKind {
    /// No static webserver or API secret key (F9).
    StaticSecretKey,
    /// `dags.gitSync.knownHosts` is not set (F1).
    KnownHostsMissing,
    /// The chart's own admin/admin or postgres/postgres credentials are in use (F17).
    DefaultCredentials,
    /// Any other `WARNING` the chart prints.
    Other,
}

/// Finds the warnings in the chart's NOTES text.
pub fn classify(notes: &str) -> Vec<NotesWarning> {
    let mut warnings = Vec::new();
    let lines: Vec<&str> = notes.lines().collect();
    for (index, raw) in lines.iter().enumerate() {
        // The chart frames its loudest warnings in `#  WARNING: ... #` banners.
        let line = raw.trim().trim_matches('#').trim();
        if line.is_empty() {
            continue;
        }
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("WARNING") || upper.starts_with("DEPRECATION WARNING") {
            let text = if line.trim_end_matches(':').eq_ignore_ascii_case("WARNING") {
                // `WARNING:` alone on its line: the message is the next non-empty line.
                let next = lines[index + 1..].iter().map(|l| l.trim()).find(|l| !l.is_empty()).unwrap_or("");
                format!("WARNING: {next}")
            } else {
                line.to_string()
            };
            warnings.push(kind_of(text));
            continue;
        }
        if let Some(warning) = default_credentials(line, lines.get(index + 1..).unwrap_or(&[])) {
            warnings.push(warning);
        }
    }
    warnings
}

/// The NOTES with every `password:` value replaced, for stderr.
pub fn redacted(notes: &str) -> String {
    notes
        .lines()
        .map(|line| match line.split_once("password:") {
            Some((before, _)) => format!("{before}password: {}", airflow_kit_core::secrets::REDACTED),
            None => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn kind_of(text: String) -> NotesWarning {
    let lower = text.to_ascii_lowercase();
    let (kind, failure) = if lower.contains("static") && lower.contains("secret key") {
        (NotesWarningKind::StaticSecretKey, Some("F9"))
    } else if lower.contains("knownhosts") || lower.contains("known_hosts") {
        (NotesWarningKind::KnownHostsMissing, Some("F1"))
    } else {
        (NotesWarningKind::Other, None)
    };
    NotesWarning { kind, failure: failure.map(str::to_string), text }
}

/// `Default Webserver (Airflow UI) Login credentials:` / `Default Postgres connection
/// credentials:` followed by `username:` and `password:` lines. Only the chart's own defaults
/// (admin/admin, postgres/postgres) are a warning; a password someone set is never repeated.
fn default_credentials(line: &str, following: &[&str]) -> Option<NotesWarning> {
    if !(line.starts_with("Default") && line.ends_with("credentials:")) {
        return None;
    }
    let field = |name: &str| {
        following.iter().take(4).find_map(|l| l.trim().strip_prefix(name).map(|value| value.trim().to_string()))
    };
    let username = field("username:")?;
    let password = field("password:")?;
    let defaults = [("admin", "admin"), ("postgres", "postgres")];
    if !defaults.iter().any(|(user, pass)| username == *user && password == *pass) {
        return None;
    }
    let what = line.trim_end_matches(':').trim_start_matches("Default ").to_string();
    Some(NotesWarning {
        kind: NotesWarningKind::DefaultCredentials,
        failure: Some("F17".to_string()),
        text: format!("{what} are the chart defaults ({username}/{password}); anyone reaching the service can log in"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(notes: &str, expected: &[(NotesWarningKind, &str)]) {
        let got: Vec<(NotesWarningKind, String)> = classify(notes).into_iter().map(|w| (w.kind, w.text)).collect();
        let expected: Vec<(NotesWarningKind, String)> = expected.iter().map(|(k, t)| (*k, t.to_string())).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn the_charts_warnings() {
        check(
            "#####################################################\n#  WARNING: You should set a static API secret key  #\n#####################################################\n",
            &[(NotesWarningKind::StaticSecretKey, "WARNING: You should set a static API secret key")],
        );
        check(
            "###########################################################\n#  WARNING: You should set a static webserver secret key  #\n",
            &[(NotesWarningKind::StaticSecretKey, "WARNING: You should set a static webserver secret key")],
        );
        check(
            "#  WARNING: You should set dags.gitSync.knownHosts  #\n",
            &[(NotesWarningKind::KnownHostsMissing, "WARNING: You should set dags.gitSync.knownHosts")],
        );
        check(
            "\nWARNING:\n    Kubernetes workers task logs may not persist unless you configure log persistence or remote logging!\n",
            &[(
                NotesWarningKind::Other,
                "WARNING: Kubernetes workers task logs may not persist unless you configure log persistence or remote logging!",
            )],
        );
    }

    #[test]
    fn default_credentials_only_when_they_are_the_defaults() {
        check(
            "Default Webserver (Airflow UI) Login credentials:\n    username: admin\n    password: admin\nDefault Postgres connection credentials:\n    username: postgres\n    password: postgres\n    port: 5432\n",
            &[
                (
                    NotesWarningKind::DefaultCredentials,
                    "Webserver (Airflow UI) Login credentials are the chart defaults (admin/admin); anyone reaching the service can log in",
                ),
                (
                    NotesWarningKind::DefaultCredentials,
                    "Postgres connection credentials are the chart defaults (postgres/postgres); anyone reaching the service can log in",
                ),
            ],
        );
        let set =
            "Default Webserver (Airflow UI) Login credentials:\n    username: admin\n    password: Zq81-not-default\n";
        check(set, &[]);
        assert!(!redacted(set).contains("Zq81"));
    }
}
