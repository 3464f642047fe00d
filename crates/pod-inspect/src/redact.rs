//! Masks passwords in text read from the cluster (container logs, event and state messages)
//! before it goes into a report or onto stderr: a connection URL's password
//! (`postgresql://user:secret@host` → `postgresql://user:***@host`) and `password=...` pairs
//! (libpq's `host=db password=secret`, `PGPASSWORD=secret`).

/// What a masked password becomes.
pub const MASK: &str = "***";

/// `line` with every password that looks like one masked; anything else unchanged.
pub fn mask_passwords(line: &str) -> String {
    mask_pairs(&mask_url_passwords(line))
}

/// Masks the password of every `scheme://user:password@host` in `text`.
fn mask_url_passwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("://") {
        let (head, tail) = rest.split_at(start + 3);
        out.push_str(head);
        // The authority ends at the path, query, fragment, or anything a URL cannot hold.
        let authority_end = tail
            .find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>'))
            .unwrap_or(tail.len());
        let authority = &tail[..authority_end];
        // The last `@` ends the user info: a password may itself hold `@` when not encoded.
        match authority.rfind('@').and_then(|at| authority[..at].find(':').map(|colon| (colon, at))) {
            Some((colon, at)) if colon + 1 < at && &authority[colon + 1..at] != MASK => {
                out.push_str(&authority[..=colon]);
                out.push_str(MASK);
                out.push_str(&authority[at..]);
            }
            _ => out.push_str(authority),
        }
        rest = &tail[authority_end..];
    }
    out.push_str(rest);
    out
}

/// Masks the value of every `password=VALUE` (any case, any prefix such as `PGPASSWORD=`).
fn mask_pairs(text: &str) -> String {
    const KEY: &str = "password=";
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut position = 0;
    while let Some(found) = lower[position..].find(KEY) {
        let value_start = position + found + KEY.len();
        out.push_str(&text[position..value_start]);
        let value_len = text[value_start..]
            .find(|c: char| c.is_whitespace() || matches!(c, '&' | ';' | ',' | '"' | '\'' | ')'))
            .unwrap_or(text.len() - value_start);
        if value_len > 0 {
            out.push_str(MASK);
        }
        position = value_start + value_len;
    }
    out.push_str(&text[position..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(line: &str, expected: &str) {
        assert_eq!(mask_passwords(line), expected, "{line}");
    }

    #[test]
    fn connection_url_passwords_are_masked() {
        check("postgresql://user:secret@host", "postgresql://user:***@host");
        check(
            "Connecting to postgresql+psycopg2://postgres:Xk9v@Q2@airflow-postgresql.airflow:5432/postgres?sslmode=disable",
            "Connecting to postgresql+psycopg2://postgres:***@airflow-postgresql.airflow:5432/postgres?sslmode=disable",
        );
        check(
            "redis://:hunter2@airflow-redis:6379/0 and mysql://a:b@db",
            "redis://:***@airflow-redis:6379/0 and mysql://a:***@db",
        );
        check("url='postgresql://u:p@h/db'", "url='postgresql://u:***@h/db'");
    }

    #[test]
    fn password_pairs_are_masked() {
        check(
            "host=db user=airflow password=s3cret dbname=airflow",
            "host=db user=airflow password=*** dbname=airflow",
        );
        check("PGPASSWORD=s3cret psql", "PGPASSWORD=*** psql");
    }

    #[test]
    fn everything_else_is_left_alone() {
        for line in [
            r#"FATAL:  password authentication failed for user "postgres""#,
            "DB: postgresql://postgres:***@airflow-postgresql.airflow:5432/postgres",
            "https://sqlalche.me/e/14/e3q8",
            "git@github.com: Permission denied (publickey).",
            "ssh://git@ssh.github.com:443/me/dags.git",
            "http://[::1]:8080/health",
            "password=",
        ] {
            check(line, line);
        }
    }
}
