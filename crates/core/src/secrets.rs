//! Which values are secrets, so every report, diff and log can mask them the same way.

/// True when a value at this dotted path must never be shown: passwords, keys, tokens, and
/// everything under `extraSecrets` (the deploy key lives there, base64-encoded).
pub fn is_secret_path(path: &[&str]) -> bool {
    if path.first() == Some(&"extraSecrets") && path.len() > 1 {
        return true;
    }
    match path.last() {
        Some(last) => is_secret_key_name(last),
        None => false,
    }
}

/// True for key names that hold secrets: `password`, `fernetKey`, `webserverSecretKey`,
/// `jwtSecret`, `gitSshKey`, `token`, ... but not names of secrets (`sshKeySecret`,
/// `fernetKeySecretName`), which are safe and useful to show.
pub fn is_secret_key_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with("secretname") || lower.ends_with("keysecret") || lower == "existingsecret" {
        return false;
    }
    ["password", "passwd", "secret", "token", "fernetkey", "sshkey", "privatekey", "apikey", "pass"]
        .iter()
        .any(|word| lower.contains(word))
        || lower.ends_with("key") && (lower.contains("secret") || lower.contains("ssh"))
}

/// The text shown instead of a secret value.
pub const REDACTED: &str = "<redacted>";

#[cfg(test)]
mod tests {
    use super::*;

    fn check(path: &str, expected: bool) {
        let parts: Vec<&str> = path.split('.').collect();
        assert_eq!(is_secret_path(&parts), expected, "{path}");
    }

    #[test]
    fn secret_paths() {
        check("webserverSecretKey", true);
        check("fernetKey", true);
        check("apiSecretKey", true);
        check("jwtSecret", true);
        check("redis.password", true);
        check("data.metadataConnection.pass", true);
        check("webserver.defaultUser.password", true);
        check("extraSecrets.airflow-ssh-secret.data", true);
        check("dags.gitSync.sshKeySecret", false);
        check("dags.gitSync.repo", false);
        check("dags.gitSync.knownHosts", false);
        check("fernetKeySecretName", false);
        check("images.airflow.tag", false);
    }
}
