//! Hostile input, as one table: each row is an input, the tool and its arguments, the exit
//! code, a fragment of the message, and the promise that nothing was written (the cumulative
//! file byte-identical, its mode kept, no file beside it but its lock) and no secret shown.
//! A row is data; the runner below holds the checks. To cover another tool, add rows.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use airflow_kit_tests::bins::{run_command, tool_command};

/// One hostile input.
struct Case {
    name: &'static str,
    tool: &'static str,
    /// Files written into the run's directory first (name, bytes).
    files: Vec<(&'static str, Vec<u8>)>,
    /// Arguments; `CUMULATIVE` stands for the cumulative file's path.
    args: Vec<String>,
    stdin: Option<Vec<u8>>,
    code: i32,
    /// A fragment of stderr (message or hint) that says what went wrong.
    message: &'static str,
}

/// The cumulative file every row runs against: it holds secrets, so any row that echoes
/// input shows up.
const CUMULATIVE: &str = "\
# the cumulative values file
fernetKey: 'Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eA=='
redis:
  password: 73911842065
webserverSecretKey: w3bs3rv3r-s3cr3t-k3y
extraSecrets:
  airflow-ssh-secret:
    data: |
      gitSshKey: 'LS0tLS1CRUdJTiBPUEVOU1NIIFBSSVZBVEUgS0VZLS0tLS0Kc2VjcmV0'
executor: CeleryExecutor
";

const SECRETS: [&str; 4] = [
    "Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eA==",
    "73911842065",
    "w3bs3rv3r-s3cr3t-k3y",
    "LS0tLS1CRUdJTiBPUEVOU1NIIFBSSVZBVEUgS0VZLS0tLS0Kc2VjcmV0",
];

/// Nine lists of nine, each made of the one before: about 600 bytes naming 387 million strings.
fn billion_laughs() -> Vec<u8> {
    let mut text =
        String::from("lol1: &lol1 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    for level in 2..=9 {
        let items = vec![format!("*lol{}", level - 1); 9].join(",");
        text.push_str(&format!("lol{level}: &lol{level} [{items}]\n"));
    }
    text.into_bytes()
}

/// 126 KB of aliases, each a list holding the one before: a tree 5,700 levels deep.
fn alias_chain() -> Vec<u8> {
    let mut text = String::from("a0: &a0 [x]\n");
    let mut level = 1;
    while text.len() < 126 * 1024 {
        text.push_str(&format!("a{level}: &a{level} [*a{}]\n", level - 1));
        level += 1;
    }
    text.into_bytes()
}

/// 200 anchors, each on a list holding the next, around 10,000 values: two million copies
/// without a single alias.
fn nested_anchors() -> Vec<u8> {
    let opening: String = (0..200).map(|level| format!("&n{level} [")).collect();
    format!("a: {opening}{}{}\n", vec!["1"; 10_000].join(","), "]".repeat(200)).into_bytes()
}

fn block_nesting(levels: usize) -> Vec<u8> {
    let lines: String = (0..levels).map(|level| format!("{}k:\n", "  ".repeat(level))).collect();
    format!("{lines}{}x\n", "  ".repeat(levels)).into_bytes()
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|arg| arg.to_string()).collect()
}

fn merge_file(name: &'static str, content: Vec<u8>, code: i32, message: &'static str) -> Case {
    Case {
        name,
        tool: "values-merge",
        files: vec![("input.yaml", content)],
        args: args(&["--in-place", "CUMULATIVE", "input.yaml"]),
        stdin: None,
        code,
        message,
    }
}

fn merge_stdin(name: &'static str, content: &str, message: &'static str) -> Case {
    Case {
        name,
        tool: "values-merge",
        files: Vec::new(),
        args: args(&["--in-place", "CUMULATIVE", "-"]),
        stdin: Some(content.as_bytes().to_vec()),
        code: 2,
        message,
    }
}

fn merge_args(name: &'static str, extra: &[&str], message: &'static str) -> Case {
    let mut all = args(&["--in-place", "CUMULATIVE"]);
    all.extend(args(extra));
    Case { name, tool: "values-merge", files: Vec::new(), args: all, stdin: None, code: 2, message }
}

fn cases() -> Vec<Case> {
    let deep_indices = |levels: usize| format!("a{}=1", "[0]".repeat(levels));
    let schema = airflow_kit_tests::bins::shared_dir().join("airflow-chart/1.20.0/values.schema.json");
    let schema = schema.display().to_string();
    vec![
        // YAML bombs and stack attacks.
        merge_file("billion laughs", billion_laughs(), 2, "the document contains excessive aliasing"),
        merge_file("126 KB of nested aliases", alias_chain(), 2, "nesting deeper than 256 levels: this alias"),
        merge_file("anchors nested in anchors", nested_anchors(), 2, "nests anchors inside anchors"),
        merge_file("300 block levels", block_nesting(300), 2, "nesting deeper than 256 levels"),
        merge_file(
            "300 flow levels",
            format!("a: {}{}\n", "[".repeat(300), "]".repeat(300)).into_bytes(),
            2,
            "recursion limit exceeded",
        ),
        merge_args("--set with 10,000 indices", &["--set", &deep_indices(10_000)], "nests deeper than 256 levels"),
        merge_args("--set with 300 indices", &["--set", &deep_indices(300)], "nests deeper than 256 levels"),
        merge_args(
            "--set-json deeper than readable",
            &["--set-json", &format!("a{}={}1{}", "[0]".repeat(200), "[".repeat(100), "]".repeat(100))],
            "nests deeper than 256 levels",
        ),
        merge_args("--set index above Helm's", &["--set", "a[65537]=1"], "greater than maximum supported index"),
        merge_args(
            "--set names nested past Helm's 30",
            &["--set", &format!("{}=1", vec!["n"; 32].join("."))],
            "greater than maximum supported nested level of 30",
        ),
        // Bytes and syntax that are not a values file.
        merge_file("a NUL byte (and a hint not about tabs)", b"a: b\0c\n".to_vec(), 2, "holds a control character"),
        merge_file("not UTF-8", vec![b'a', b':', b' ', 0xff, 0xfe, b'\n'], 2, "not UTF-8 text"),
        merge_stdin("an unknown escape (and its own hint)", "a: \"x\\qy\"\n", "starts an escape"),
        merge_stdin("an unknown anchor (and its own hint)", "a: *nope\n", "needs its anchor `&name`"),
        merge_stdin("tab indentation", "a:\n\tb: 1\n", "tabs"),
        merge_stdin("y and yes, one key to YAML 1.1", "y: 1\nyes: 2\n", "takes both as the boolean true"),
        merge_stdin("a duplicate key", "a: 1\na: 2\n", "duplicate key `a`"),
        merge_stdin("a list, not a mapping", "- a\n- b\n", "the document is a list"),
        merge_stdin("two documents", "a: 1\n---\nb: 2\n", "more than one YAML document"),
        merge_stdin("a list as a key", "? [a]\n: b\n", "a list or mapping used as a key"),
        merge_stdin("a null key", "~: 1\n", "a null key"),
        merge_stdin("a merge of a scalar", "<<: 1\n", "`<<` must merge a mapping"),
        merge_stdin("an unclosed bracket", "a: [1, 2\n", "`<stdin>`: line 2"),
        // Flags that would write what cannot be meant.
        merge_args("--set through a scalar", &["--set", "executor.kind=x"], "is not a map"),
        merge_args("--set after a secret", &["--set", "redis.password=pa,ss"], "follows the secret `redis.password`"),
        merge_args("--set an empty key", &["--set", "=1"], "empty key"),
        merge_args("--unset an empty key", &["--unset", "a..b"], "it has an empty key"),
        // Schema violations that would quote the cumulative file's secrets.
        merge_args("schema errors on secrets", &["--schema", &schema, "--set-json", "fernetKey=[1,2]"], "schema error"),
        merge_args("a missing file", &["no-such.yaml"], "cannot read `no-such.yaml`"),
    ]
}

#[test]
fn hostile_inputs_are_refused_cleanly_and_nothing_is_written() {
    let mut failures = Vec::new();
    for case in cases() {
        if let Err(failure) = run_case(&case) {
            failures.push(format!("{}: {failure}", case.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of the hostile inputs were not handled:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

fn run_case(case: &Case) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|error| error.to_string())?;
    let cumulative = dir.path().join("values.yaml");
    std::fs::write(&cumulative, CUMULATIVE).map_err(|error| error.to_string())?;
    std::fs::set_permissions(&cumulative, std::fs::Permissions::from_mode(0o640)).map_err(|error| error.to_string())?;
    for (name, bytes) in &case.files {
        std::fs::write(dir.path().join(name), bytes).map_err(|error| error.to_string())?;
    }
    let before = listing(dir.path());
    let args: Vec<String> = case
        .args
        .iter()
        .map(|arg| if arg == "CUMULATIVE" { cumulative.display().to_string() } else { arg.clone() })
        .collect();
    let mut command = tool_command(case.tool);
    command.args(&args).current_dir(dir.path());
    let started = Instant::now();
    let run = run_command(command, case.stdin.as_deref());
    let took = started.elapsed();

    let problem = if run.code != case.code {
        Some(format!("exit code {} instead of {}", run.code, case.code))
    } else if !run.stderr.contains(case.message) {
        Some(format!("stderr lacks {:?}", case.message))
    } else if !run.stderr.contains("hint: ") {
        Some("no `hint:` line".to_string())
    } else if !run.stdout.is_empty() {
        Some("something on stdout".to_string())
    } else if std::fs::read(&cumulative).map_err(|error| error.to_string())? != CUMULATIVE.as_bytes() {
        Some("the cumulative file changed".to_string())
    } else if mode(&cumulative) != 0o640 {
        Some(format!("the cumulative file's mode changed to {:o}", mode(&cumulative)))
    } else if took > Duration::from_secs(20) {
        Some(format!("took {took:?}"))
    } else {
        // Nothing new beside it but its lock file, which holds a pid and nothing else.
        let mut after = listing(dir.path());
        after.retain(|name| name != "values.yaml.lock");
        (after != before).then(|| format!("files changed: {before:?} -> {after:?}"))
    };
    let leaked = SECRETS.iter().any(|secret| run.stdout.contains(secret) || run.stderr.contains(secret));
    match (problem, leaked) {
        (None, false) => Ok(()),
        (Some(problem), _) => Err(format!("{problem}\n{run}")),
        (None, true) => Err(format!("a planted secret is in the output\n{run}")),
    }
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries.filter_map(Result::ok).map(|entry| entry.file_name().to_string_lossy().into_owned()).collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).map(|metadata| metadata.permissions().mode() & 0o7777).unwrap_or(0)
}
