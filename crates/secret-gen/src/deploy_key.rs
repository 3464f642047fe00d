//! `secret-gen deploy-key`: an OpenSSH key pair on disk (generated, reused, or brought with
//! `--key`), and the values (or a Kubernetes Secret manifest) that give it to git-sync. The
//! private key goes into the values base64-encoded on ONE line, then is decoded back and
//! compared with the file, so a wrapped or mangled key never leaves this tool (F5, F6).

use std::path::{Path, PathBuf};

use airflow_kit_core::git_url::{GitUrl, Provider};
use airflow_kit_core::{Document, Error, Node, fs as core_fs};

use crate::openssh_key;
use base64::Engine;
use ssh_key::private::{KeypairData, RsaKeypair};
use ssh_key::{Algorithm, HashAlg, LineEnding, PrivateKey};

/// The key types git-sync can use that we generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    Ed25519,
    Rsa,
}

impl KeyType {
    pub fn name(self) -> &'static str {
        match self {
            KeyType::Ed25519 => "ed25519",
            KeyType::Rsa => "rsa",
        }
    }
}

/// Everything `deploy-key` was asked to do, after flags were parsed and defaults resolved.
#[derive(Debug, Clone)]
pub struct DeployKeyConfig {
    pub dir: PathBuf,
    /// The private key's file name in `dir`; the public key is `<name>.pub`.
    pub name: String,
    /// None: reuse whatever pair exists, else generate Ed25519.
    pub key_type: Option<KeyType>,
    /// RSA modulus size; None means 4096.
    pub bits: Option<usize>,
    pub comment: String,
    pub secret_name: String,
    pub repo: Option<String>,
    pub branch: Option<String>,
    pub sub_path: Option<String>,
    /// Where the Secret manifest goes (`-` for stdout); None puts the key into the values.
    pub manifest: Option<PathBuf>,
    pub namespace: Option<String>,
    /// A private key the user brings instead of a generated one.
    pub key: Option<PathBuf>,
    /// Move an existing, different pair aside (never deleted) and use the new key.
    pub rotate: bool,
}

pub const DEFAULT_RSA_BITS: usize = 4096;
/// The key name inside the Secret that the chart mounts for git-sync.
pub const SECRET_KEY_NAME: &str = "gitSshKey";

/// What happened to the key pair, for the summary on stderr.
#[derive(Debug, Clone)]
pub struct KeyPair {
    pub private_path: PathBuf,
    pub public_path: PathBuf,
    /// The exact bytes of the private key file: what goes into the Secret.
    pub private_bytes: Vec<u8>,
    /// The OpenSSH public key line (`ssh-ed25519 AAAA... comment`), no newline.
    pub public_line: String,
    pub fingerprint: String,
    pub notes: Vec<String>,
}

impl DeployKeyConfig {
    pub fn private_path(&self) -> PathBuf {
        self.dir.join(&self.name)
    }

    pub fn public_path(&self) -> PathBuf {
        self.dir.join(format!("{}.pub", self.name))
    }

    /// Checks the flags before anything is read or written.
    pub fn validate(&self) -> Result<(), Error> {
        if self.name.is_empty() || self.name.contains('/') || self.name.starts_with('.') {
            return Err(Error::bad_input(format!("`--name {}` is not a plain file name", self.name))
                .with_hint("give a file name like `airflow_deploy_key`; the directory goes in `--dir`"));
        }
        if !is_dns_subdomain(&self.secret_name) {
            return Err(Error::bad_input(format!(
                "`--secret-name {}` is not a valid Kubernetes name",
                self.secret_name
            ))
            .with_hint("use lowercase letters, digits, `-` and `.`, like `airflow-ssh-secret`"));
        }
        if let Some(bits) = self.bits {
            if self.key_type != Some(KeyType::Rsa) {
                return Err(Error::bad_input("`--bits` applies only to `--type rsa`")
                    .with_hint("drop `--bits`, or add `--type rsa`"));
            }
            if !(2048..=8192).contains(&bits) || bits % 8 != 0 {
                return Err(Error::bad_input(format!("`--bits {bits}` is not a usable RSA key size"))
                    .with_hint("use 4096 (or 3072); GitHub refuses RSA keys under 2048 bits"));
            }
        }
        if self.key.is_some() && self.bits.is_some() {
            return Err(
                Error::bad_input("`--bits` cannot apply to a key brought with `--key`").with_hint("drop `--bits`")
            );
        }
        if let Some(namespace) = &self.namespace
            && !is_dns_subdomain(namespace)
        {
            return Err(Error::bad_input(format!("`--namespace {namespace}` is not a valid Kubernetes name"))
                .with_hint("use lowercase letters, digits and `-`, like `airflow`"));
        }
        if self.namespace.is_some() && self.manifest.is_none() {
            return Err(Error::bad_input("`--namespace` applies only to `--as-manifest`")
                .with_hint("the chart puts its own Secrets into the release's namespace"));
        }
        for (flag, value) in [("--repo", &self.repo), ("--branch", &self.branch), ("--sub-path", &self.sub_path)] {
            if value.as_deref().is_some_and(|value| value.trim().is_empty() || value.contains('\n')) {
                return Err(Error::bad_input(format!("`{flag}` must not be empty or span lines"))
                    .with_hint(format!("give `{flag}` a single-line value")));
            }
        }
        if self.dir.exists() && !self.dir.is_dir() {
            return Err(Error::bad_input(format!("`--dir {}` exists and is not a directory", self.dir.display()))
                .with_hint("choose a directory for the key pair, like `~/.airflow/keys`"));
        }
        Ok(())
    }
}

/// Checks that the values document can take our keys (so nothing is written when it cannot),
/// and that it does not already carry a different deploy key.
pub fn check_document(root: &Node, config: &DeployKeyConfig) -> Result<(), Error> {
    let mut trial = root.clone();
    set_git_sync(&mut trial, config, &mut Vec::new())?;
    if config.manifest.is_none() {
        trial.set_path(&["extraSecrets", &config.secret_name, "data"], Node::string(""))?;
    }
    let data = root.get_path(&["extraSecrets", &config.secret_name, "data"]);
    if let Some(data) = data
        && data.as_str().is_none()
        && !data.is_null()
    {
        return Err(Error::bad_input(format!(
            "`extraSecrets.{}.data` is not a string; the chart requires a string block there",
            config.secret_name
        ))
        .with_hint(format!("write it as `data: |` followed by `  {SECRET_KEY_NAME}: '<base64>'` lines")));
    }
    Ok(())
}

/// The deploy key already in the document's `extraSecrets.<name>.data`, decoded.
pub fn key_in_document(root: &Node, secret_name: &str) -> Result<Option<Vec<u8>>, Error> {
    let Some(data) = root.get_path(&["extraSecrets", secret_name, "data"]).and_then(Node::as_str) else {
        return Ok(None);
    };
    let where_ = format!("extraSecrets.{secret_name}.data");
    let inner = Document::parse(data, &where_)?;
    let Some(encoded) = inner.root.get_path(&[SECRET_KEY_NAME]) else {
        return Ok(None);
    };
    let encoded = encoded.as_str().ok_or_else(|| {
        Error::bad_input(format!("`{SECRET_KEY_NAME}` in `{where_}` is not a string"))
            .with_hint(format!("quote it: `{SECRET_KEY_NAME}: '<base64>'`"))
    })?;
    base64::engine::general_purpose::STANDARD.decode(encoded.trim()).map(Some).map_err(|error| {
        Error::bad_input(format!("`{SECRET_KEY_NAME}` in `{where_}` is not valid base64: {error}"))
            .with_hint("a key encoded with `base64` (which wraps at 76 columns) breaks here; let secret-gen write it")
    })
}

/// Makes sure the key pair exists in `config.dir` and returns it: reuses an existing pair,
/// imports `--key`, or generates a new one. Never overwrites a key file.
pub fn ensure_key_pair(config: &DeployKeyConfig, in_document: Option<&[u8]>) -> Result<KeyPair, Error> {
    let private_path = config.private_path();
    let public_path = config.public_path();
    let mut notes = Vec::new();

    let brought = match &config.key {
        Some(path) => {
            let bytes = read_key_file(path)?;
            let key = validate_private_key(&bytes, &path.display().to_string())?;
            check_type(&key, config.key_type, path)?;
            Some((bytes, key))
        }
        None => None,
    };
    // A pair another user planted (or could change) is never reused: refused before it is read.
    core_fs::check_trusted(&config.dir, false)?;
    core_fs::check_trusted(&private_path, true)?;
    core_fs::check_trusted(&public_path, false)?;
    let existing = if private_path.exists() {
        let bytes = read_key_file(&private_path)?;
        let key = validate_private_key(&bytes, &private_path.display().to_string())
            .map_err(|error| Error { code: airflow_kit_core::ExitCode::Refused, ..error })?;
        Some((bytes, key))
    } else {
        None
    };

    // What the key will be, decided before anything is written.
    let wanted_differs = match (&existing, &brought) {
        (Some((old, _)), Some((new, _))) => old != new,
        (Some((_, old)), None) => config.key_type.is_some_and(|wanted| key_type_of(old) != Some(wanted)),
        (None, _) => false,
    };
    if wanted_differs && !config.rotate {
        return Err(Error::refused(format!(
            "`{}` already holds a different key; not replacing it",
            private_path.display()
        ))
        .with_hint("pass `--rotate` to move the old pair aside and use the new key, or choose another `--name`"));
    }
    if existing.is_none() && public_path.exists() && !config.rotate {
        return Err(Error::refused(format!(
            "`{}` exists without its private key `{}`",
            public_path.display(),
            private_path.display()
        ))
        .with_hint("move the stray public key away, or pass `--rotate` to move it aside"));
    }
    if let Some(in_document) = in_document {
        let on_disk = match (&brought, &existing) {
            (Some((bytes, _)), _) | (None, Some((bytes, _))) => Some(bytes.as_slice()),
            (None, None) => None,
        };
        if on_disk != Some(in_document) && !config.rotate {
            return Err(Error::refused(format!(
                "the document already holds a different deploy key in `extraSecrets.{}.data`",
                config.secret_name
            ))
            .with_hint(format!(
                "to keep that key, decode it into `{}` (or pass it with `--key`); to replace it, pass `--rotate`",
                private_path.display()
            )));
        }
    }

    core_fs::create_private_dir(&config.dir, 0o700)?;
    // `--rotate` without `--key` asks for a new key even when the old one is fine.
    let reuse = existing.is_some() && !wanted_differs && !(config.rotate && brought.is_none());
    if reuse && let Some((bytes, key)) = existing {
        notes.push(format!("reusing the key pair in `{}`", private_path.display()));
        let public_line = public_line(&key)?;
        ensure_public_file(&public_path, &public_line, config.rotate, &mut notes)?;
        warn_about_mode(&private_path, &mut notes);
        return Ok(KeyPair {
            fingerprint: fingerprint_of(&key),
            private_path,
            public_path,
            private_bytes: bytes,
            public_line,
            notes,
        });
    }
    if config.rotate {
        move_aside(&private_path, &mut notes)?;
        move_aside(&public_path, &mut notes)?;
    }
    let (bytes, key) = match brought {
        Some((bytes, key)) => {
            notes.push(format!("using the key from `{}`", config.key.as_deref().unwrap_or(Path::new("")).display()));
            (bytes, key)
        }
        None => {
            let key = generate(config.key_type.unwrap_or(KeyType::Ed25519), config.bits, &config.comment)?;
            let text =
                key.to_openssh(LineEnding::LF).map_err(|error| key_error("cannot encode the new key", &error))?;
            notes.push(format!("generated a new {} key in `{}`", key.algorithm().as_str(), private_path.display()));
            (text.as_bytes().to_vec(), key)
        }
    };
    core_fs::write_new(&private_path, &bytes, 0o600)?;
    let public_line = public_line(&key)?;
    core_fs::write_new(&public_path, format!("{public_line}\n").as_bytes(), 0o644)?;
    Ok(KeyPair {
        fingerprint: fingerprint_of(&key),
        private_path,
        public_path,
        private_bytes: bytes,
        public_line,
        notes,
    })
}

/// `SHA256:...`, as `ssh-keygen -lf` prints it.
fn fingerprint_of(key: &PrivateKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// Generates a key from the OS random source.
pub fn generate(key_type: KeyType, bits: Option<usize>, comment: &str) -> Result<PrivateKey, Error> {
    // SysRng reports failure through a panic once wrapped as an infallible rng; draw once first
    // so a missing random source is an error with a hint instead.
    crate::random::bytes(16)?;
    let mut rng = ssh_key::rand_core::UnwrapErr(getrandom::SysRng);
    let mut key = match key_type {
        KeyType::Ed25519 => PrivateKey::random(&mut rng, Algorithm::Ed25519)
            .map_err(|error| key_error("cannot generate an Ed25519 key", &error))?,
        KeyType::Rsa => {
            let bits = bits.unwrap_or(DEFAULT_RSA_BITS);
            let keypair =
                RsaKeypair::random(&mut rng, bits).map_err(|error| key_error("cannot generate an RSA key", &error))?;
            PrivateKey::new(KeypairData::from(keypair), comment)
                .map_err(|error| key_error("cannot build the RSA key", &error))?
        }
    };
    key.set_comment(comment);
    Ok(key)
}

/// The smallest RSA modulus accepted: GitHub refuses smaller deploy keys, and 1024 bits can
/// be broken. OpenSSH itself still loads 1024-bit keys, so this one refusal is ours (exit 4).
pub const MIN_RSA_BITS: u32 = 2048;

/// Checks a private key file's bytes the way git-sync's ssh will read them (F6): what OpenSSH
/// refuses to load (`openssh_key`: the file must start with the BEGIN line, end its END line
/// with a newline, use LF line endings, hold valid base64 of a well-formed key; a public key,
/// base64 of a key file or a passphrase are refused too) is refused here with exit 2, saying
/// what is wrong and how to fix it; an RSA key under 2048 bits is refused with exit 4. A key
/// in the old PEM format (`-----BEGIN RSA PRIVATE KEY-----`), which OpenSSH also reads, is
/// refused with the command that converts it: we could not read it back for the self-test.
pub fn validate_private_key(bytes: &[u8], shown: &str) -> Result<PrivateKey, Error> {
    let refuse = |why: &str, hint: &str| Err(Error::bad_input(format!("`{shown}` {why}")).with_hint(hint.to_string()));
    // Only the beginning must be text: OpenSSH ignores whatever follows the END line.
    let text = String::from_utf8_lossy(bytes);
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return refuse("is empty", "give the private key file (not the `.pub`)");
    }
    if ["ssh-", "ecdsa-", "sk-"].iter().any(|prefix| trimmed.starts_with(prefix)) {
        return refuse(
            "is a public key, not a private key",
            "give the private half (the file without `.pub`); the public half goes into the repository's deploy keys",
        );
    }
    if trimmed.starts_with("-----BEGIN ") && !trimmed.starts_with(openssh_key::BEGIN_LINE) {
        return refuse(
            "is not in the OpenSSH private key format",
            "convert a copy in place with `ssh-keygen -p -N '' -f COPY` (it rewrites the key in the OpenSSH format), then pass that",
        );
    }
    if !trimmed.starts_with(openssh_key::BEGIN_LINE) && !trimmed.starts_with('\u{feff}') {
        if std::str::from_utf8(bytes).is_err() {
            return refuse(
                "is not a text key file",
                "an OpenSSH private key is text starting with `-----BEGIN OPENSSH PRIVATE KEY-----`",
            );
        }
        let compact: String = trimmed.split_whitespace().collect();
        let decoded = base64::engine::general_purpose::STANDARD.decode(compact.as_bytes());
        if decoded.is_ok_and(|decoded| decoded.starts_with(b"-----BEGIN")) {
            return refuse(
                "is base64 of a key file, not the key file itself",
                "decode it first (`base64 -d FILE > KEY`); secret-gen does the encoding",
            );
        }
        return refuse(
            "does not start with `-----BEGIN OPENSSH PRIVATE KEY-----`",
            "give an OpenSSH private key file, as `ssh-keygen` writes it",
        );
    }
    let binary = match openssh_key::decode(bytes) {
        Ok(binary) => binary,
        Err(refusal) => return refuse(&refusal.why, &refusal.fix),
    };
    let key = PrivateKey::from_bytes(&binary).map_err(|error| {
        Error::bad_input(format!(
            "`{shown}` is damaged: it does not decode as an OpenSSH private key ({error}); ssh cannot load it"
        ))
        .with_hint("copy the whole key again, from the BEGIN line to the END line; a damaged key cannot be repaired")
    })?;
    if key.is_encrypted() {
        return refuse(
            "is protected by a passphrase, which git-sync cannot type",
            "remove the passphrase from a copy with `ssh-keygen -p -N '' -f COPY`, or generate a deploy key without `--key`",
        );
    }
    if let Some(rsa) = key.key_data().rsa()
        && rsa.key_size() < MIN_RSA_BITS
    {
        return Err(Error::refused(format!(
            "`{shown}` is a {}-bit RSA key: keys under {MIN_RSA_BITS} bits are refused (GitHub rejects them as deploy \
             keys, and they can be broken)",
            rsa.key_size()
        ))
        .with_hint(
            "make a new deploy key: drop `--key` (secret-gen generates an Ed25519 key), or `ssh-keygen -t ed25519 -f KEY` \
             and pass that; then register its public half with the repository",
        ));
    }
    Ok(key)
}

/// Sets `dags.gitSync.*` and puts the key into `extraSecrets.<secret>.data` (or, with a
/// manifest, takes it out of the values). Returns notes for stderr.
pub fn apply_to_values(root: &mut Node, config: &DeployKeyConfig, private_bytes: &[u8]) -> Result<Vec<String>, Error> {
    let mut notes = Vec::new();
    set_git_sync(root, config, &mut notes)?;
    let encoded = base64::engine::general_purpose::STANDARD.encode(private_bytes);
    let data_path = ["extraSecrets", config.secret_name.as_str(), "data"];
    let current = root.get_path(&data_path).and_then(Node::as_str).map(str::to_string);
    if config.manifest.is_some() {
        if let Some(current) = current {
            if data_lines_other_than_key(&current) {
                return Err(Error::bad_input(format!(
                    "`extraSecrets.{}` holds other data too; with `--as-manifest` the chart would create a Secret of the same name",
                    config.secret_name
                ))
                .with_hint("choose another `--secret-name`, or move the other data to its own secret"));
            }
            let _ = root.remove_path(&["extraSecrets", config.secret_name.as_str()]);
            if root.get_path(&["extraSecrets"]).and_then(Node::as_mapping).is_some_and(|mapping| mapping.is_empty()) {
                let _ = root.remove_path(&["extraSecrets"]);
            }
            notes.push(format!(
                "removed `extraSecrets.{}` from the values: the Secret now comes from the manifest",
                config.secret_name
            ));
        }
        return Ok(notes);
    }
    let line = format!("{SECRET_KEY_NAME}: '{encoded}'");
    let data = match current {
        Some(current) if !current.trim().is_empty() => replace_key_line(&current, &line),
        _ => format!("{line}\n"),
    };
    root.set_path(&data_path, Node::string(data))?;
    Ok(notes)
}

/// Decodes the key back out of the emitted YAML text and compares it with the key file on
/// disk: the self-test that catches a wrapped, folded or truncated key before Helm sees it.
pub fn self_test(emitted_yaml: &str, config: &DeployKeyConfig, key_path: &Path) -> Result<(), Error> {
    let document = Document::parse(emitted_yaml, "<our output>")?;
    let on_disk = std::fs::read(key_path).map_err(|error| {
        Error::external(format!("cannot re-read `{}`: {}", key_path.display(), core_fs::plain_io_error(&error)))
    })?;
    let decoded = key_in_document(&document.root, &config.secret_name)?;
    if decoded.as_deref() != Some(on_disk.as_slice()) {
        return Err(Error::external("self-test failed: the key decoded from our output differs from the key file")
            .with_hint("this is a bug in secret-gen; nothing was written to stdout"));
    }
    Ok(())
}

/// Decodes `data.gitSshKey` back out of the manifest we wrote and compares it with the file.
pub fn self_test_manifest(manifest: &str, key_path: &Path) -> Result<(), Error> {
    let document = Document::parse(manifest, "<our manifest>")?;
    let on_disk = std::fs::read(key_path).map_err(|error| {
        Error::external(format!("cannot re-read `{}`: {}", key_path.display(), core_fs::plain_io_error(&error)))
    })?;
    let decoded = document
        .root
        .get_path(&["data", SECRET_KEY_NAME])
        .and_then(Node::as_str)
        .and_then(|encoded| base64::engine::general_purpose::STANDARD.decode(encoded).ok());
    if decoded.as_deref() != Some(on_disk.as_slice()) {
        return Err(Error::external("self-test failed: the key decoded from our manifest differs from the key file")
            .with_hint("this is a bug in secret-gen; nothing was written"));
    }
    Ok(())
}

/// The Kubernetes Secret for `kubectl apply`, with the same `data` that
/// `kubectl create secret generic NAME --from-file=gitSshKey=KEY` makes.
pub fn manifest(secret_name: &str, namespace: Option<&str>, private_bytes: &[u8]) -> Result<String, Error> {
    let mut root = Node::mapping();
    root.set_path(&["apiVersion"], Node::string("v1"))?;
    root.set_path(&["kind"], Node::string("Secret"))?;
    root.set_path(&["metadata", "name"], Node::string(secret_name))?;
    if let Some(namespace) = namespace {
        root.set_path(&["metadata", "namespace"], Node::string(namespace))?;
    }
    root.set_path(&["type"], Node::string("Opaque"))?;
    let encoded = base64::engine::general_purpose::STANDARD.encode(private_bytes);
    root.set_path(&["data", SECRET_KEY_NAME], Node::string(encoded))?;
    Ok(airflow_kit_core::yaml::emit_document(&root))
}

/// Tells the user where to paste the public key, for the repository's host when we know it.
pub fn paste_instructions(repo: Option<&str>, key: &KeyPair) -> Vec<String> {
    let mut lines = vec![
        format!("public key (`{}`):", key.public_path.display()),
        format!("  {}", key.public_line),
        format!("fingerprint: {}", key.fingerprint),
    ];
    // One parser and one page for every tool (core's `git_url`), so `ssh://` and port-443
    // URLs name the same page as `git@github.com:` ones.
    let url = repo.and_then(|repo| GitUrl::parse(repo).ok());
    let page = url.as_ref().and_then(GitUrl::deploy_keys_page);
    let place = match (url.as_ref().map(GitUrl::provider), page) {
        (Some(Provider::GitHub), Some(page)) => format!(
            "add it to the repository as a read-only deploy key: {page} (Settings, Deploy keys, Add deploy key; leave \"Allow write access\" off)"
        ),
        (Some(Provider::GitLab), Some(page)) => format!(
            "add it to the repository as a deploy key: {page} (Settings, Repository, Deploy keys; without write access)"
        ),
        (Some(Provider::Bitbucket), Some(page)) => {
            format!("add it to the repository as an access key: {page} (Repository settings, Access keys)")
        }
        _ => match url.as_ref().filter(|url| !url.host.is_empty()) {
            Some(url) => format!("add it to the repository on `{}` as a read-only deploy key", url.host),
            None => {
                "add it to the DAG repository as a read-only deploy key (GitHub: Settings, Deploy keys)".to_string()
            }
        },
    };
    lines.push(place);
    lines.push(
        "deploy keys belong to ONE repository; git-sync fails with `Permission denied (publickey)` until it is added"
            .to_string(),
    );
    lines
}

fn set_git_sync(root: &mut Node, config: &DeployKeyConfig, notes: &mut Vec<String>) -> Result<(), Error> {
    const GIT_SYNC: [&str; 2] = ["dags", "gitSync"];
    let path = |key: &'static str| [GIT_SYNC[0], GIT_SYNC[1], key];
    root.set_path(&path("enabled"), Node::bool(true))?;
    if let Some(repo) = &config.repo {
        root.set_path(&path("repo"), Node::string(repo.clone()))?;
    } else if root.get_path(&path("repo")).is_none() {
        notes.push("no `--repo` and none in the document: the chart's example repository would be synced".to_string());
    }
    let branch = match &config.branch {
        Some(branch) => Some(branch.clone()),
        None => root.get_path(&path("branch")).and_then(Node::as_str).map(str::to_string),
    };
    match branch {
        Some(branch) => {
            root.set_path(&path("branch"), Node::string(branch.clone()))?;
            // git-sync v4 takes `ref`, whose chart default (`v2-2-stable`) would otherwise win (F7).
            root.set_path(&path("ref"), Node::string(branch))?;
        }
        None => notes.push(
            "no `--branch` and none in the document: the chart's default `v2-2-stable` would be synced".to_string(),
        ),
    }
    if let Some(sub_path) = &config.sub_path {
        root.set_path(&path("subPath"), Node::string(sub_path.clone()))?;
    }
    root.set_path(&path("sshKeySecret"), Node::string(config.secret_name.clone()))?;
    if root.get_path(&path("sshKey")).is_some_and(|node| !node.is_null()) {
        notes.push(
            "`dags.gitSync.sshKey` is also set: the chart does not mount it into KubernetesExecutor task pods; remove it and rely on `sshKeySecret`"
                .to_string(),
        );
    }
    Ok(())
}

fn replace_key_line(data: &str, line: &str) -> String {
    let mut out = String::new();
    let mut replaced = false;
    for existing in data.lines() {
        if existing.trim_start().starts_with(&format!("{SECRET_KEY_NAME}:")) {
            if !replaced {
                out.push_str(line);
                out.push('\n');
                replaced = true;
            }
        } else {
            out.push_str(existing);
            out.push('\n');
        }
    }
    if !replaced {
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn data_lines_other_than_key(data: &str) -> bool {
    data.lines()
        .map(str::trim)
        .any(|line| !line.is_empty() && !line.starts_with('#') && !line.starts_with(&format!("{SECRET_KEY_NAME}:")))
}

fn read_key_file(path: &Path) -> Result<Vec<u8>, Error> {
    if path.is_dir() {
        return Err(Error::bad_input(format!("`{}` is a directory, not a key file", path.display()))
            .with_hint("name the private key file"));
    }
    std::fs::read(path).map_err(|error| {
        Error::bad_input(format!("cannot read `{}`: {}", path.display(), core_fs::plain_io_error(&error)))
            .with_hint("check the path and the file's permissions")
    })
}

fn check_type(key: &PrivateKey, wanted: Option<KeyType>, path: &Path) -> Result<(), Error> {
    if let Some(wanted) = wanted
        && key_type_of(key) != Some(wanted)
    {
        return Err(Error::bad_input(format!(
            "`{}` is a {} key, not {}",
            path.display(),
            key.algorithm().as_str(),
            wanted.name()
        ))
        .with_hint("drop `--type`, or bring a key of that type"));
    }
    Ok(())
}

fn key_type_of(key: &PrivateKey) -> Option<KeyType> {
    match key.algorithm() {
        Algorithm::Ed25519 => Some(KeyType::Ed25519),
        Algorithm::Rsa { .. } => Some(KeyType::Rsa),
        _ => None,
    }
}

fn public_line(key: &PrivateKey) -> Result<String, Error> {
    key.public_key().to_openssh().map_err(|error| key_error("cannot encode the public key", &error))
}

fn ensure_public_file(path: &Path, line: &str, rotate: bool, notes: &mut Vec<String>) -> Result<(), Error> {
    if !path.exists() {
        core_fs::write_new(path, format!("{line}\n").as_bytes(), 0o644)?;
        notes.push(format!("wrote the missing public key `{}`", path.display()));
        return Ok(());
    }
    let existing = std::fs::read_to_string(path).unwrap_or_default();
    fn type_and_blob(text: &str) -> Vec<&str> {
        text.split_whitespace().take(2).collect()
    }
    if type_and_blob(&existing) == type_and_blob(line) {
        return Ok(());
    }
    if !rotate {
        return Err(Error::refused(format!("`{}` does not belong to its private key", path.display()))
            .with_hint("move the wrong public key away (secret-gen writes the right one), or pass `--rotate`"));
    }
    move_aside(path, notes)?;
    core_fs::write_new(path, format!("{line}\n").as_bytes(), 0o644)
}

/// Renames a key file to `<name>.rotated-<unix seconds>`: a key is never deleted.
fn move_aside(path: &Path, notes: &mut Vec<String>) -> Result<(), Error> {
    if !path.exists() {
        return Ok(());
    }
    let seconds = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let file_name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let mut target = path.with_file_name(format!("{file_name}.rotated-{seconds}"));
    let mut counter = 1;
    while target.exists() {
        target = path.with_file_name(format!("{file_name}.rotated-{seconds}-{counter}"));
        counter += 1;
    }
    std::fs::rename(path, &target).map_err(|error| {
        Error::bad_input(format!("cannot move `{}` aside: {}", path.display(), core_fs::plain_io_error(&error)))
            .with_hint("check that the key directory is writable by you")
    })?;
    notes.push(format!("moved the old `{}` to `{}`", path.display(), target.display()));
    Ok(())
}

fn warn_about_mode(path: &Path, notes: &mut Vec<String>) {
    if core_fs::mode_of(path).is_some_and(|mode| mode & 0o077 != 0) {
        notes.push(format!(
            "warning: `{}` is readable by others; ssh refuses such keys locally (`chmod 600 {}`)",
            path.display(),
            path.display()
        ));
    }
}

fn key_error(what: &str, error: &ssh_key::Error) -> Error {
    Error::external(format!("{what}: {error}")).with_hint("this should not happen; please report it")
}

/// RFC 1123 subdomain, as Kubernetes requires for Secret and namespace names.
fn is_dns_subdomain(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &Path) -> DeployKeyConfig {
        DeployKeyConfig {
            dir: dir.to_path_buf(),
            name: airflow_kit_core::defaults::DEPLOY_KEY_NAME.to_string(),
            key_type: None,
            bits: None,
            comment: "test".to_string(),
            secret_name: airflow_kit_core::defaults::SSH_SECRET_NAME.to_string(),
            repo: Some("git@github.com:me/dags.git".to_string()),
            branch: Some("main".to_string()),
            sub_path: Some("dags".to_string()),
            manifest: None,
            namespace: None,
            key: None,
            rotate: false,
        }
    }

    fn check_refused(bytes: &[u8], needle: &str) {
        let error = validate_private_key(bytes, "k").expect_err("must be refused");
        assert_eq!(error.code.code(), 2);
        assert!(error.message.contains(needle), "{} lacks {needle}", error.message);
        assert!(error.hint.is_some());
    }

    #[test]
    fn bad_private_keys_are_refused_with_the_reason() {
        let key = generate(KeyType::Ed25519, None, "c").expect("key");
        let good = key.to_openssh(LineEnding::LF).expect("encode").as_bytes().to_vec();
        validate_private_key(&good, "k").expect("a good key passes");
        check_refused(&good[..good.len() - 1], "newline");
        check_refused(String::from_utf8(good.clone()).expect("utf-8").replace('\n', "\r\n").as_bytes(), "CR LF");
        check_refused(public_line(&key).expect("pub").as_bytes(), "public key");
        let doubled = base64::engine::general_purpose::STANDARD.encode(&good);
        check_refused(doubled.as_bytes(), "base64");
        check_refused(
            b"-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n",
            "OpenSSH private key format",
        );
        check_refused(b"", "empty");
    }

    #[test]
    fn the_key_goes_into_one_line_and_decodes_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = config(&dir.path().join("keys"));
        let pair = ensure_key_pair(&config, None).expect("pair");
        let mut root = Node::mapping();
        apply_to_values(&mut root, &config, &pair.private_bytes).expect("apply");
        let yaml = airflow_kit_core::yaml::emit_document(&root);
        assert!(yaml.contains("    data: |\n      gitSshKey: '"), "{yaml}");
        self_test(&yaml, &config, &pair.private_path).expect("self-test");
        assert_eq!(root.get_path(&["dags", "gitSync", "ref"]).and_then(Node::as_str), Some("main"));
        assert_eq!(core_fs::mode_of(&pair.private_path), Some(0o600));
        assert_eq!(core_fs::mode_of(&pair.public_path), Some(0o644));
        assert_eq!(core_fs::mode_of(&config.dir), Some(0o700));
    }

    #[test]
    fn an_existing_pair_is_reused_and_a_different_type_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = config(dir.path());
        let first = ensure_key_pair(&config, None).expect("first");
        let second = ensure_key_pair(&config, None).expect("second");
        assert_eq!(first.private_bytes, second.private_bytes);
        config.key_type = Some(KeyType::Rsa);
        config.bits = Some(2048);
        let error = ensure_key_pair(&config, None).expect_err("different type");
        assert_eq!(error.code.code(), 4);
        assert_eq!(std::fs::read(&first.private_path).expect("read"), first.private_bytes);
    }

    #[test]
    fn the_paste_page_is_the_same_for_every_form_of_a_github_url() {
        let dir = tempfile::tempdir().expect("temp dir");
        let pair = ensure_key_pair(&config(&dir.path().join("keys")), None).expect("pair");
        let place = |repo: Option<&str>| paste_instructions(repo, &pair)[3].clone();
        // Defect 9: `ssh://` with port 443 names the repository's page, not `github.com/443/...`.
        for repo in
            ["git@github.com:me/dags.git", "ssh://git@ssh.github.com:443/me/dags.git", "https://github.com/me/dags"]
        {
            assert!(
                place(Some(repo)).contains(" https://github.com/me/dags/settings/keys "),
                "{repo}: {}",
                place(Some(repo))
            );
        }
        assert!(
            place(Some("git@gitlab.com:group/sub/dags.git"))
                .contains("https://gitlab.com/group/sub/dags/-/settings/repository")
        );
        assert!(place(Some("ssh://root@127.0.0.1:2222/srv/dags.git")).contains("on `127.0.0.1`"));
        assert!(place(None).contains("DAG repository"));
        assert!(place(Some("nonsense")).contains("DAG repository"));
    }

    #[test]
    fn the_manifest_has_the_key_under_git_ssh_key() {
        let text = manifest("airflow-ssh-secret", Some("airflow"), b"key\n").expect("manifest");
        assert_eq!(
            text,
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: airflow-ssh-secret\n  namespace: airflow\ntype: Opaque\ndata:\n  gitSshKey: a2V5Cg==\n"
        );
    }
}
