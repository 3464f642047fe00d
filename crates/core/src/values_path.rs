//! A values path as people type it on a command line: keys joined by dots, `\.` a dot inside a
//! key, `\\` a backslash. It is the spelling every report prints (`yaml::dotted`), so a path
//! copied from a report (helm-run's `--allow-removal`, values-merge's `--unset`) reads back as
//! the same keys.

use crate::error::Error;

/// The keys of `text`, unescaped. `flag` names the flag the path came with, for the error
/// (`--unset`, `--allow-removal`): a lone trailing `\` or an empty key (a leading, trailing
/// or doubled `.`) is refused, since no value lives at such a path.
pub fn parse(flag: &str, text: &str) -> Result<Vec<String>, Error> {
    let bad = |why: &str| {
        Error::bad_input(format!("`{flag} {text}`: {why}")).with_hint(format!(
            "give a path as the report lists it, e.g. `{flag} dags.gitSync` (a dot inside a key is `\\.`)"
        ))
    };
    let mut keys = Vec::new();
    let mut key = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(escaped) => key.push(escaped),
                None => return Err(bad("it ends with a lone `\\`")),
            },
            '.' => keys.push(std::mem::take(&mut key)),
            _ => key.push(c),
        }
    }
    keys.push(key);
    if keys.iter().any(String::is_empty) {
        return Err(bad("it has an empty key (a leading, trailing or doubled `.`)"));
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::dotted;

    fn check(text: &str, expected: &[&str]) {
        let keys = parse("--unset", text).unwrap_or_else(|error| panic!("{text}: {error}"));
        assert_eq!(keys, expected, "{text}");
        // The report spelling of the keys is the text again.
        let borrowed: Vec<&str> = keys.iter().map(String::as_str).collect();
        assert_eq!(dotted(&borrowed), text);
    }

    #[test]
    fn reads_back_what_reports_print() {
        check("apiServer.service.type", &["apiServer", "service", "type"]);
        check(r"podAnnotations.prometheus\.io/scrape", &["podAnnotations", "prometheus.io/scrape"]);
        check(r"a\\b.c", &[r"a\b", "c"]);
        check("single", &["single"]);
    }

    #[test]
    fn refuses_paths_no_value_can_live_at() {
        for (text, why) in
            [("", "empty key"), ("a..b", "empty key"), (".a", "empty key"), ("a.", "empty key"), ("a\\", "lone `\\`")]
        {
            let error = parse("--unset", text).expect_err(text);
            assert!(error.message.starts_with(&format!("`--unset {text}`: ")), "{}", error.message);
            assert!(error.message.contains(why), "{text}: {}", error.message);
            assert!(error.hint.as_deref().is_some_and(|hint| hint.contains("`--unset dags.gitSync`")));
        }
    }
}
