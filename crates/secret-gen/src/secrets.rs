//! The filter: pins every secret the Airflow chart would otherwise randomize on each render,
//! and (with `--credentials`) replaces the chart's default `admin`/`admin` and
//! `postgres`/`postgres` credentials. Existing values are kept; only `--rotate` replaces one.

use airflow_kit_core::{Error, Node};

use crate::random;

/// Which Airflow line the chart deploys; it decides which session/API keys exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AirflowMajor {
    Two,
    Three,
}

impl AirflowMajor {
    pub fn number(self) -> u8 {
        match self {
            AirflowMajor::Two => 2,
            AirflowMajor::Three => 3,
        }
    }
}

/// What the filter was asked to do, after flags were parsed.
#[derive(Debug, Clone, Default)]
pub struct SecretsConfig {
    /// `--airflow 2|3`: used only when the document does not say.
    pub airflow: Option<AirflowMajor>,
    /// `--credentials`: also replace the default UI and database passwords.
    pub credentials: bool,
    /// `--rotate NAME`: secrets to replace even though they are set.
    pub rotate: Vec<Rotate>,
}

/// A secret that `--rotate` may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotate {
    WebserverSecretKey,
    ApiSecretKey,
    JwtSecret,
    FernetKey,
    RedisPassword,
    AdminPassword,
}

/// The names `--rotate` accepts, for help and error messages.
pub const ROTATE_NAMES: &[&str] = &[
    "webserverSecretKey",
    "apiSecretKey",
    "jwtSecret",
    "fernetKey",
    "redis.password",
    "webserver.defaultUser.password",
    "createUserJob.defaultUser.password",
];

const DATABASE_PASSWORD_NAMES: &[&str] = &["postgresql.auth.postgresPassword", "data.metadataConnection.pass"];

impl Rotate {
    /// Parses a `--rotate` value; the database password is refused here, before anything runs.
    pub fn parse(name: &str) -> Result<Rotate, Error> {
        let rotate = match name {
            "webserverSecretKey" => Rotate::WebserverSecretKey,
            "apiSecretKey" => Rotate::ApiSecretKey,
            "jwtSecret" => Rotate::JwtSecret,
            "fernetKey" => Rotate::FernetKey,
            "redis.password" => Rotate::RedisPassword,
            "webserver.defaultUser.password" | "createUserJob.defaultUser.password" | "adminPassword" => {
                Rotate::AdminPassword
            }
            name if DATABASE_PASSWORD_NAMES.contains(&name) => {
                return Err(Error::refused(format!("refusing to rotate `{name}`"))
                    .with_hint(DATABASE_PASSWORD_IS_STORED_HINT.to_string()));
            }
            other => {
                return Err(Error::bad_input(format!("`--rotate {other}`: not a secret secret-gen manages"))
                    .with_hint(format!("name one of: {}", ROTATE_NAMES.join(", "))));
            }
        };
        Ok(rotate)
    }
}

impl SecretsConfig {
    /// Checks flag combinations that make no sense, before any input is read.
    pub fn validate(&self) -> Result<(), Error> {
        if self.rotate.contains(&Rotate::AdminPassword) && !self.credentials {
            return Err(Error::bad_input("`--rotate` of the admin password needs `--credentials`")
                .with_hint("add `--credentials`"));
        }
        Ok(())
    }
}

const DATABASE_PASSWORD_IS_STORED_HINT: &str = "\
the database keeps the password it was created with (on its volume): a new password in the values
would lock Airflow out of its own database. Change it inside PostgreSQL first (`ALTER USER postgres
PASSWORD '...'`), then set `postgresql.auth.postgresPassword` and `data.metadataConnection.pass` to it";

/// Adds the missing secrets to `root` (a values document), keeps those already set, replaces
/// those named in `config.rotate`. Returns lines for stderr, which name secrets but never show
/// their values.
pub fn add_secrets(root: &mut Node, config: &SecretsConfig) -> Result<Vec<String>, Error> {
    let major = airflow_major(root, config.airflow)?;
    let mut notes = Vec::new();
    match major {
        Some(major) => {
            let source = ["airflowVersion", "defaultAirflowTag"]
                .iter()
                .find(|key| root.get_path(&[key]).and_then(version_text).is_some())
                .map_or("`--airflow`".to_string(), |key| format!("`{key}`"));
            notes.push(format!("Airflow {} (from {source})", major.number()));
        }
        None => notes.push(
            "Airflow version unknown: setting the keys of both Airflow 2 and 3 (say `--airflow 2|3` to choose)"
                .to_string(),
        ),
    }
    for rotate in &config.rotate {
        let applies = match rotate {
            Rotate::WebserverSecretKey => major != Some(AirflowMajor::Three),
            Rotate::ApiSecretKey | Rotate::JwtSecret => major != Some(AirflowMajor::Two),
            _ => true,
        };
        if !applies {
            let major = major.map(AirflowMajor::number).unwrap_or_default();
            return Err(Error::bad_input(format!(
                "`--rotate {}`: Airflow {major} does not use it",
                rotate_name(*rotate)
            ))
            .with_hint("rotate only the keys of the Airflow version the document deploys"));
        }
    }

    let mut plan: Vec<Simple> = Vec::new();
    if major != Some(AirflowMajor::Three) {
        plan.push(Simple::new(&["webserverSecretKey"], Some(&["webserverSecretKeySecretName"]), Kind::Hex16));
    }
    if major != Some(AirflowMajor::Two) {
        plan.push(Simple::new(&["apiSecretKey"], Some(&["apiSecretKeySecretName"]), Kind::Hex16));
        plan.push(Simple::new(&["jwtSecret"], Some(&["jwtSecretName"]), Kind::Hex32));
    }
    plan.push(Simple::new(&["fernetKey"], Some(&["fernetKeySecretName"]), Kind::Fernet));
    plan.push(Simple::new(&["redis", "password"], Some(&["redis", "passwordSecretName"]), Kind::Password));

    for simple in &plan {
        let rotate = config.rotate.iter().any(|rotate| rotate_name(*rotate) == simple.name());
        pin_simple(root, simple, rotate, &mut notes)?;
    }
    if config.credentials {
        let rotate_admin = config.rotate.contains(&Rotate::AdminPassword);
        pin_admin_password(root, major, rotate_admin, &mut notes)?;
        pin_database_password(root, &mut notes)?;
    }
    Ok(notes)
}

/// The Airflow major the document deploys (`airflowVersion`, else `defaultAirflowTag`), else
/// the flag; a flag that contradicts the document is an error, not a silent choice.
pub fn airflow_major(root: &Node, flag: Option<AirflowMajor>) -> Result<Option<AirflowMajor>, Error> {
    let from_document = ["airflowVersion", "defaultAirflowTag"]
        .iter()
        .find_map(|key| root.get_path(&[key]).and_then(version_text).map(|text| (*key, text)));
    let Some((key, text)) = from_document else {
        return Ok(flag);
    };
    let major = match text.split(['.', '-']).next().unwrap_or_default() {
        "2" => AirflowMajor::Two,
        "3" => AirflowMajor::Three,
        _ => {
            return Err(Error::bad_input(format!("`{key}: {text}` is not an Airflow 2 or 3 version"))
                .with_hint("set it to a version like `2.10.5` or `3.1.8`, or remove it and pass `--airflow 2|3`"));
        }
    };
    if let Some(flag) = flag
        && flag != major
    {
        return Err(Error::bad_input(format!(
            "`--airflow {}` contradicts `{key}: {text}` in the document",
            flag.number()
        ))
        .with_hint("drop `--airflow`, or fix the version in the document"));
    }
    Ok(Some(major))
}

fn version_text(node: &Node) -> Option<String> {
    // A plain `3.0` is a float to Helm but still names a version; take its text either way.
    let scalar = node.as_scalar()?;
    if node.is_null() || scalar.text.trim().is_empty() { None } else { Some(scalar.text.trim().to_string()) }
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    /// 32 hex characters, like `secrets.token_hex(16)` (the chart's documented recipe).
    Hex16,
    /// 64 hex characters (256 bits) for the JWT signing secret.
    Hex32,
    Fernet,
    Password,
}

struct Simple {
    path: &'static [&'static str],
    /// A `...SecretName` key: when set, the secret lives in a Kubernetes Secret the user manages.
    secret_name: Option<&'static [&'static str]>,
    kind: Kind,
}

impl Simple {
    fn new(path: &'static [&'static str], secret_name: Option<&'static [&'static str]>, kind: Kind) -> Simple {
        Simple { path, secret_name, kind }
    }

    fn name(&self) -> String {
        self.path.join(".")
    }
}

fn rotate_name(rotate: Rotate) -> &'static str {
    match rotate {
        Rotate::WebserverSecretKey => "webserverSecretKey",
        Rotate::ApiSecretKey => "apiSecretKey",
        Rotate::JwtSecret => "jwtSecret",
        Rotate::FernetKey => "fernetKey",
        Rotate::RedisPassword => "redis.password",
        Rotate::AdminPassword => "the admin password",
    }
}

fn generate(kind: Kind) -> Result<String, Error> {
    match kind {
        Kind::Hex16 => random::hex(16),
        Kind::Hex32 => random::hex(32),
        Kind::Fernet => random::fernet_key(),
        Kind::Password => random::password(32),
    }
}

/// True when the node holds a value the user set (not missing, not null, not empty).
pub(crate) fn is_set(node: Option<&Node>) -> bool {
    node.is_some_and(|node| !node.is_null() && node.as_scalar().is_none_or(|scalar| !scalar.text.is_empty()))
}

fn pin_simple(root: &mut Node, simple: &Simple, rotate: bool, notes: &mut Vec<String>) -> Result<(), Error> {
    let name = simple.name();
    if let Some(secret_name) = simple.secret_name
        && is_set(root.get_path(secret_name))
    {
        notes.push(format!("left {name} alone: `{}` names a Secret you manage", secret_name.join(".")));
        return Ok(());
    }
    let current = root.get_path(simple.path);
    if is_set(current) && !rotate {
        notes.push(format!("kept {name}"));
        return Ok(());
    }
    let mut value = generate(simple.kind)?;
    if rotate && matches!(simple.kind, Kind::Fernet) {
        // Airflow reads a comma-separated list: the first key encrypts, every key decrypts. Keeping
        // the old key second means stored connections stay readable until they are re-encrypted.
        if let Some(old) = current.and_then(Node::as_str).map(str::trim).filter(|old| !old.is_empty()) {
            let old_first = old.split(',').next().unwrap_or(old);
            value = format!("{value},{old_first}");
            notes.push(
                "rotated fernetKey; the old key is kept second so stored connections stay readable: after the upgrade run `airflow rotate-fernet-key`, then drop the old key"
                    .to_string(),
            );
        } else {
            notes.push("rotated fernetKey".to_string());
        }
    } else if rotate && is_set(current) {
        notes.push(format!("rotated {name}"));
    } else {
        notes.push(format!("added {name}"));
    }
    root.set_path(simple.path, Node::string(value))
}

/// The chart's defaults for its default UI user; a partial `webserver.defaultUser` would
/// replace them all in chart 1.20 (its create-user job takes that map whole when it is set).
const DEFAULT_USER: &[(&str, &str)] = &[
    ("role", "Admin"),
    ("username", "admin"),
    ("email", "admin@example.com"),
    ("firstName", "admin"),
    ("lastName", "user"),
];

fn pin_admin_password(
    root: &mut Node,
    major: Option<AirflowMajor>,
    rotate: bool,
    notes: &mut Vec<String>,
) -> Result<(), Error> {
    // Chart 1.15 knows only `webserver.defaultUser`; chart 1.20 prefers `createUserJob.defaultUser`
    // but still takes `webserver.defaultUser` whole when it is set. Follow what the document
    // already uses; otherwise Airflow 3 (chart 1.16+) gets the new place, and Airflow 2 or an
    // unknown version gets the place both chart lines accept.
    let has = |root: &Node, path: &[&str]| root.get_path(path).and_then(Node::as_mapping).is_some();
    let use_create_user_job = has(root, &["createUserJob", "defaultUser"])
        || (!has(root, &["webserver", "defaultUser"]) && major == Some(AirflowMajor::Three));
    let base: &[&str] =
        if use_create_user_job { &["createUserJob", "defaultUser"] } else { &["webserver", "defaultUser"] };
    let password_path = [base[0], base[1], "password"];
    let name = password_path.join(".");
    let current = root.get_path(&password_path);
    let is_default = current.and_then(Node::as_str) == Some("admin");
    if is_set(current) && !is_default && !rotate {
        notes.push(format!("kept {name}"));
        return Ok(());
    }
    if !use_create_user_job {
        if root.get_path(&["webserver", "defaultUser", "enabled"]).is_none() {
            root.set_path(&["webserver", "defaultUser", "enabled"], Node::bool(true))?;
        }
        for (key, value) in DEFAULT_USER {
            let path = ["webserver", "defaultUser", key];
            if !is_set(root.get_path(&path)) {
                root.set_path(&path, Node::string(*value))?;
            }
        }
    }
    root.set_path(&password_path, Node::string(random::password(24)?))?;
    let verb = if is_default { "replaced the default admin password in" } else { "set" };
    notes.push(format!("{verb} {name}"));
    notes.push(
        "the admin password applies when the user is first created; on an existing install change it in the UI or with `airflow users reset-password`"
            .to_string(),
    );
    Ok(())
}

fn pin_database_password(root: &mut Node, notes: &mut Vec<String>) -> Result<(), Error> {
    const CHART_PASSWORD: &[&str] = &["postgresql", "auth", "postgresPassword"];
    const CONNECTION_PASSWORD: &[&str] = &["data", "metadataConnection", "pass"];
    if root.get_path(&["postgresql", "enabled"]).and_then(Node::as_bool) == Some(false)
        || is_set(root.get_path(&["data", "metadataSecretName"]))
    {
        notes.push("left the database password alone: the document uses an external database".to_string());
        return Ok(());
    }
    let chart = root.get_path(CHART_PASSWORD).filter(|node| is_set(Some(node))).map(scalar_text);
    let connection = root.get_path(CONNECTION_PASSWORD).filter(|node| is_set(Some(node))).map(scalar_text);
    if chart.as_deref() == Some("postgres") || connection.as_deref() == Some("postgres") {
        return Err(Error::refused(
            "refusing to replace the database password: the document sets the default `postgres` password, so a database may already use it",
        )
        .with_hint(format!(
            "{DATABASE_PASSWORD_IS_STORED_HINT}.\nFor a new install, remove both keys from the document and run again"
        )));
    }
    match (chart, connection) {
        (None, None) => {
            let password = random::password(32)?;
            root.set_path(CHART_PASSWORD, Node::string(password.clone()))?;
            root.set_path(CONNECTION_PASSWORD, Node::string(password))?;
            notes.push(format!(
                "added {} and {} (the same password)",
                CHART_PASSWORD.join("."),
                CONNECTION_PASSWORD.join(".")
            ));
        }
        (Some(chart), None) => {
            root.set_path(CONNECTION_PASSWORD, Node::string(chart))?;
            notes.push(format!("set {} to match {}", CONNECTION_PASSWORD.join("."), CHART_PASSWORD.join(".")));
        }
        (None, Some(connection)) => {
            root.set_path(CHART_PASSWORD, Node::string(connection))?;
            notes.push(format!("set {} to match {}", CHART_PASSWORD.join("."), CONNECTION_PASSWORD.join(".")));
        }
        (Some(chart), Some(connection)) if chart == connection => {
            notes.push("kept the database password".to_string());
        }
        (Some(_), Some(_)) => {
            return Err(Error::bad_input(format!(
                "`{}` and `{}` differ, so Airflow could not log in to its database",
                CHART_PASSWORD.join("."),
                CONNECTION_PASSWORD.join(".")
            ))
            .with_hint("set both to the password the database actually has"));
        }
    }
    Ok(())
}

fn scalar_text(node: &Node) -> String {
    node.as_scalar().map(|scalar| scalar.text.clone()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use airflow_kit_core::Document;

    fn run(input: &str, config: &SecretsConfig) -> Result<Node, Error> {
        let mut document = Document::parse(input, "t").expect("parses");
        add_secrets(&mut document.root, config)?;
        Ok(document.root)
    }

    fn keys(root: &Node) -> Vec<String> {
        root.as_mapping().expect("mapping").iter().map(|(key, _)| key.to_string()).collect()
    }

    #[test]
    fn airflow_2_gets_webserver_key_and_keeps_order() {
        let root = run("b: 1\nairflowVersion: 2.9.3\na: yes\n", &SecretsConfig::default()).expect("runs");
        assert_eq!(keys(&root), ["b", "airflowVersion", "a", "webserverSecretKey", "fernetKey", "redis"]);
        let key = root.get_path(&["webserverSecretKey"]).and_then(Node::as_str).expect("string");
        assert_eq!(key.len(), 32);
        assert_eq!(root.get_path(&["a"]).and_then(Node::as_bool), Some(true), "untouched keys keep meaning");
    }

    #[test]
    fn airflow_3_gets_api_key_and_jwt() {
        let root = run("defaultAirflowTag: 3.1.8\n", &SecretsConfig::default()).expect("runs");
        assert_eq!(keys(&root), ["defaultAirflowTag", "apiSecretKey", "jwtSecret", "fernetKey", "redis"]);
    }

    #[test]
    fn unknown_version_sets_both_lines() {
        let root = run("", &SecretsConfig::default()).expect("runs");
        assert_eq!(keys(&root), ["webserverSecretKey", "apiSecretKey", "jwtSecret", "fernetKey", "redis"]);
    }

    #[test]
    fn existing_values_are_kept_and_rotate_replaces_only_its_own() {
        let input = "fernetKey: keep-me\nwebserverSecretKey: mine\n";
        let config = SecretsConfig { airflow: Some(AirflowMajor::Two), ..SecretsConfig::default() };
        let root = run(input, &config).expect("runs");
        assert_eq!(root.get_path(&["fernetKey"]).and_then(Node::as_str), Some("keep-me"));
        assert_eq!(root.get_path(&["webserverSecretKey"]).and_then(Node::as_str), Some("mine"));
        let config = SecretsConfig { rotate: vec![Rotate::WebserverSecretKey], ..config };
        let root = run(input, &config).expect("runs");
        assert_eq!(root.get_path(&["fernetKey"]).and_then(Node::as_str), Some("keep-me"));
        assert_ne!(root.get_path(&["webserverSecretKey"]).and_then(Node::as_str), Some("mine"));
    }

    #[test]
    fn rotated_fernet_key_keeps_the_old_one_second() {
        let config = SecretsConfig { rotate: vec![Rotate::FernetKey], ..SecretsConfig::default() };
        let root = run("fernetKey: old\n", &config).expect("runs");
        let value = root.get_path(&["fernetKey"]).and_then(Node::as_str).expect("string");
        assert!(value.ends_with(",old") && value.len() == 48, "{value}");
    }

    #[test]
    fn version_flag_contradicting_the_document_is_bad_input() {
        let config = SecretsConfig { airflow: Some(AirflowMajor::Three), ..SecretsConfig::default() };
        let error = run("airflowVersion: 2.9.3\n", &config).expect_err("contradiction");
        assert_eq!(error.code.code(), 2);
        assert!(error.hint.is_some());
    }

    #[test]
    fn credentials_replace_defaults_and_match_the_database_passwords() {
        let config = SecretsConfig { credentials: true, ..SecretsConfig::default() };
        let root =
            run("airflowVersion: 2.9.3\nwebserver:\n  defaultUser:\n    password: admin\n", &config).expect("runs");
        let admin = root.get_path(&["webserver", "defaultUser", "password"]).and_then(Node::as_str).expect("admin");
        assert_ne!(admin, "admin");
        assert_eq!(root.get_path(&["webserver", "defaultUser", "username"]).and_then(Node::as_str), Some("admin"));
        let chart = root.get_path(&["postgresql", "auth", "postgresPassword"]).and_then(Node::as_str);
        let connection = root.get_path(&["data", "metadataConnection", "pass"]).and_then(Node::as_str);
        assert!(chart.is_some());
        assert_eq!(chart, connection);
    }

    #[test]
    fn airflow_3_admin_password_goes_to_create_user_job() {
        let config = SecretsConfig { credentials: true, ..SecretsConfig::default() };
        let root = run("airflowVersion: 3.1.8\n", &config).expect("runs");
        assert!(root.get_path(&["createUserJob", "defaultUser", "password"]).is_some());
        assert!(root.get_path(&["webserver"]).is_none());
    }

    #[test]
    fn an_existing_default_database_password_is_refused() {
        let config = SecretsConfig { credentials: true, ..SecretsConfig::default() };
        let error = run("data:\n  metadataConnection:\n    pass: postgres\n", &config).expect_err("refused");
        assert_eq!(error.code.code(), 4);
        let error =
            run("postgresql:\n  auth:\n    postgresPassword: a\ndata:\n  metadataConnection:\n    pass: b\n", &config)
                .expect_err("mismatch");
        assert_eq!(error.code.code(), 2);
        let root = run("postgresql:\n  auth:\n    postgresPassword: mine\n", &config).expect("runs");
        assert_eq!(root.get_path(&["data", "metadataConnection", "pass"]).and_then(Node::as_str), Some("mine"));
    }

    #[test]
    fn rotate_names_parse_and_the_database_password_is_refused() {
        assert_eq!(Rotate::parse("redis.password").expect("known"), Rotate::RedisPassword);
        assert_eq!(Rotate::parse("postgresql.auth.postgresPassword").expect_err("refused").code.code(), 4);
        assert_eq!(Rotate::parse("nope").expect_err("unknown").code.code(), 2);
    }

    #[test]
    fn a_secret_name_means_the_user_manages_it() {
        let root = run("fernetKeySecretName: my-fernet\n", &SecretsConfig::default()).expect("runs");
        assert!(root.get_path(&["fernetKey"]).is_none());
    }
}
