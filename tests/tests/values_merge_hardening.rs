//! values-merge on a shared machine and against hostile values: concurrent writers of one
//! cumulative file all land, a writer that must wait says for whom, a symbolic link is
//! followed to its file, every error path keeps planted secrets to itself, and a `--set` path
//! is refused when no later run could read the file back.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;

use airflow_kit_tests::bins::{Run, assert_no_secret, run_tool, shared_dir, tool_command};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

/// Two concurrent `--in-place` runs lost one change in 30 of 30 tries: both read the file,
/// both wrote, the later write won. Under the lock each waits for the other.
#[test]
fn thirty_concurrent_writers_all_land() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cumulative = dir.path().join("values.yaml");
    std::fs::write(&cumulative, "# ours\nexecutor: CeleryExecutor\n").expect("write");
    let children: Vec<_> = (0..30)
        .map(|index| {
            let mut command = tool_command("values-merge");
            command
                .args(["--in-place", "values.yaml", "--set", &format!("writer{index}=done")])
                .current_dir(dir.path())
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            command.spawn().expect("start values-merge")
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().expect("wait");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    let text = std::fs::read_to_string(&cumulative).expect("read");
    let values = airflow_kit_core::yaml::parse_document(&text, "values.yaml").expect("parses").to_json();
    let missing: Vec<usize> = (0..30).filter(|index| values[format!("writer{index}")] != "done").collect();
    assert!(missing.is_empty(), "lost the writes of {missing:?}:\n{text}");
    assert!(text.starts_with("# ours\nexecutor: CeleryExecutor\n"), "{text}");
    assert_eq!(mode(&cumulative), 0o600);
    assert_eq!(mode(&dir.path().join("values.yaml.lock")), 0o600, "the lock file is private too");
}

/// A writer that finds the file locked says whom it waits for, then finishes once the holder
/// lets go.
#[test]
fn a_waiting_writer_names_the_holder() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cumulative = dir.path().join("values.yaml");
    std::fs::write(&cumulative, "a: 1\n").expect("write");
    let holder =
        airflow_kit_core::lock::exclusive(&airflow_kit_core::lock::beside(&cumulative), false).expect("lock free");
    let mut command = tool_command("values-merge");
    command
        .args(["--in-place", "values.yaml", "--set", "b=2"])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("start");
    // Its stderr, line by line, until it says it waits: only then is the lock let go, so the
    // test does not depend on how fast a loaded machine starts it.
    let stderr = child.stderr.take().expect("stderr piped");
    let (lines, said) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)).map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let mut seen = Vec::new();
    let waiting = loop {
        match said.recv_timeout(std::time::Duration::from_secs(120)) {
            Ok(line) if line.starts_with("values-merge: waiting for ") => break line,
            Ok(line) => seen.push(line),
            Err(_) => panic!("values-merge never said it waits; stderr so far: {seen:?}"),
        }
    };
    assert_eq!(
        waiting,
        format!(
            "values-merge: waiting for process {} (`{}`), which is writing `values.yaml`",
            std::process::id(),
            holder_program()
        )
    );
    assert_eq!(std::fs::read_to_string(&cumulative).expect("read"), "a: 1\n", "wrote while locked");
    drop(holder);
    let status = child.wait().expect("wait");
    let rest: Vec<String> = said.iter().collect();
    reader.join().expect("reader");
    assert!(status.success(), "{rest:?}");
    assert_eq!(std::fs::read_to_string(&cumulative).expect("read"), "a: 1\nb: 2\n");
}

/// The program name the lock file records for this test process.
fn holder_program() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.file_name().map(|name| name.to_string_lossy().into_owned()))
        .unwrap_or_default()
}

/// `--in-place` through a symbolic link replaced the link with a file, forking the values:
/// the link's target kept the old ones. Now the target is written (atomically) and the link
/// stays; a link to nothing is refused.
#[test]
fn in_place_through_a_symlink_writes_its_target() {
    let dir = tempfile::tempdir().expect("temp dir");
    let real_dir = dir.path().join("config");
    std::fs::create_dir(&real_dir).expect("dir");
    let target = real_dir.join("airflow-values.yaml");
    std::fs::write(&target, "# kept\na: 1\n").expect("write");
    let link = dir.path().join("values.yaml");
    std::os::unix::fs::symlink("config/airflow-values.yaml", &link).expect("symlink");

    let run = run_tool("values-merge", &["--in-place", "values.yaml", "--set", "b=2"], None, dir.path());
    run.expect_success().expect_stderr_contains("(the link's target, `");
    assert!(std::fs::symlink_metadata(&link).expect("link").file_type().is_symlink(), "the link is still a link");
    assert_eq!(std::fs::read_to_string(&target).expect("read"), "# kept\na: 1\nb: 2\n");
    assert_eq!(mode(&target), 0o600);
    assert!(real_dir.join("airflow-values.yaml.lock").exists(), "the lock is beside the file written");

    let dangling = dir.path().join("gone.yaml");
    std::os::unix::fs::symlink("config/nothing.yaml", &dangling).expect("symlink");
    let run = run_tool("values-merge", &["--in-place", "gone.yaml", "--set", "b=2"], None, dir.path());
    run.expect_code(2)
        .expect_stderr_contains("`gone.yaml` is a symbolic link to `config/nothing.yaml`, which does not exist")
        .expect_stderr_contains("hint: ");
    assert!(!real_dir.join("nothing.yaml").exists(), "nothing created");
    assert!(std::fs::symlink_metadata(&dangling).expect("link").file_type().is_symlink());
}

/// Secrets planted where users put them, in the shapes that break the schema: a numeric
/// `redis.password`, an `extraSecrets` data block written as a map, a `fernetKey` that is a
/// number. `--schema` printed the password and the whole base64 key. Every error path that
/// can see them is run, and no output holds any of them.
#[test]
fn no_error_path_shows_a_planted_secret() {
    let dir = tempfile::tempdir().expect("temp dir");
    let secrets = [
        "73911842065".to_string(),
        "LS0tLS1CRUdJTiBPUEVOU1NIIFBSSVZBVEUgS0VZLS0tLS0Kc2VjcmV0LWtleS1ib2R5".to_string(),
        "12345678901234".to_string(),
        "pa55w0rd-with-a-comma".to_string(),
        "hunter2-default".to_string(),
    ];
    let values = dir.path().join("values.yaml");
    std::fs::write(
        &values,
        format!(
            "redis:\n  password: {}\nextraSecrets:\n  airflow-ssh-secret:\n    data:\n      gitSshKey: '{}'\nfernetKey: {}\n",
            secrets[0], secrets[1], secrets[2]
        ),
    )
    .expect("write");
    let defaults = dir.path().join("defaults.yaml");
    std::fs::write(&defaults, format!("redis:\n  password: {{nested: {}}}\n", secrets[4])).expect("write");
    let broken = dir.path().join("broken.yaml");
    std::fs::write(&broken, format!("fernetKey: {}\nredis:\n  password: [{}\n", secrets[2], secrets[0]))
        .expect("write");
    let duplicate = dir.path().join("duplicate.yaml");
    std::fs::write(&duplicate, format!("fernetKey: {}\nfernetKey: {}\n", secrets[2], secrets[0])).expect("write");

    let schema = shared_dir().join("airflow-chart/1.20.0/values.schema.json");
    let schema = schema.to_str().expect("utf-8");
    let comma = format!("redis.password=pa55w0rd,{}", &secrets[3][9..]);
    let runs: Vec<Run> = vec![
        run_tool("values-merge", &["values.yaml", "--schema", schema], None, dir.path()),
        run_tool("values-merge", &["values.yaml", "--defaults", "defaults.yaml", "--schema", schema], None, dir.path()),
        run_tool("values-merge", &["values.yaml", "--defaults", "defaults.yaml"], None, dir.path()),
        run_tool("values-merge", &["values.yaml", "--set", &comma], None, dir.path()),
        run_tool("values-merge", &["broken.yaml"], None, dir.path()),
        run_tool("values-merge", &["duplicate.yaml"], None, dir.path()),
        run_tool("values-merge", &["values.yaml", "--explain"], None, dir.path()),
        run_tool("values-merge", &["values.yaml", "--set", "a=1", "--diff", "values.yaml"], None, dir.path()),
        run_tool("values-merge", &["values.yaml", "--set", "fernetKey.x=1"], None, dir.path()),
        run_tool("values-merge", &["values.yaml", "--set-json", "redis.password={bad"], None, dir.path()),
    ];
    // Each error path did fail, and said what about.
    runs[0].expect_code(2).expect_stderr_contains("/redis/password (values.yaml:2:3): <redacted> (a secret number)");
    runs[0].expect_stderr_contains(
        "/extraSecrets/airflow-ssh-secret/data (values.yaml:5:5): <redacted> (a secret mapping)",
    );
    runs[0].expect_stderr_contains("/fernetKey (values.yaml:7:1): <redacted> (a secret number)");
    runs[1].expect_code(2).expect_stderr_contains("schema error");
    runs[2].expect_success().expect_stderr_contains("for redis.password (<redacted>)");
    runs[3].expect_code(2).expect_stderr_contains("follows the secret `redis.password`");
    runs[4].expect_code(2).expect_stderr_contains("broken.yaml");
    runs[5].expect_code(2).expect_stderr_contains("duplicate key `fernetKey`");
    runs[8].expect_code(2).expect_stderr_contains("is not a map");
    runs[9].expect_code(2).expect_stderr_contains("invalid JSON value");
    // --explain names paths and places; --diff masks. stdout is checked wherever it is not
    // the document itself (which carries the values, as it must); stderr everywhere.
    runs[6].expect_success();
    runs[7].expect_success();
    for (index, run) in runs.iter().enumerate() {
        let document_on_stdout = run.code == 0 && ![6, 7].contains(&index);
        let shown = Run {
            command: run.command.clone(),
            code: run.code,
            stdout: if document_on_stdout { String::new() } else { run.stdout.clone() },
            stderr: run.stderr.clone(),
        };
        assert_no_secret(&[&shown], &secrets);
    }
    for run in &runs {
        assert!(!run.stderr.contains(&secrets[1][..24]), "a prefix of the key leaked\n{run}");
    }
}

/// 255 list levels under the top mapping is the deepest a file may be and still be read back:
/// it is written, and a second run reads it. One level more is refused, file untouched.
#[test]
fn a_set_path_is_refused_when_no_later_run_could_read_it_back() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cumulative = dir.path().join("values.yaml");
    std::fs::write(&cumulative, "a: 1\n").expect("write");
    let deepest = format!("deep{}=1", "[0]".repeat(255));
    run_tool("values-merge", &["--in-place", "values.yaml", "--set", &deepest], None, dir.path()).expect_success();
    let written = std::fs::read_to_string(&cumulative).expect("read");
    run_tool("values-merge", &["--in-place", "values.yaml", "--set", "b=2"], None, dir.path()).expect_success();

    let before = std::fs::read_to_string(&cumulative).expect("read");
    assert!(before.starts_with(&written), "the second run read the deep file back and kept it");
    for levels in [256, 10_000] {
        let too_deep = format!("deeper{}=1", "[0]".repeat(levels));
        run_tool("values-merge", &["--in-place", "values.yaml", "--set", &too_deep], None, dir.path())
            .expect_code(2)
            .expect_stderr_contains("failed parsing --set data: this setting nests deeper than 256 levels")
            .expect_stderr_contains("Helm limits an index to 65536");
        assert_eq!(std::fs::read_to_string(&cumulative).expect("read"), before);
    }
}

/// A cumulative file others can change, or that another user owns, is not merged into
/// (issue 11 item 2): exit 4 with the fix, and the file is left exactly as it was.
#[test]
fn a_cumulative_file_others_can_change_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let values = dir.path().join("values.yaml");
    std::fs::write(&values, "a: 1\n").expect("values");
    std::fs::set_permissions(&values, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    let run = run_tool("values-merge", &["--in-place", "values.yaml", "--set", "b=2"], None, dir.path());
    run.expect_code(4).expect_stderr_contains("writable by other users").expect_stderr_contains("chmod 644");
    assert_eq!(std::fs::read_to_string(&values).expect("values"), "a: 1\n");
    assert_eq!(mode(&values), 0o666);
    std::fs::set_permissions(&values, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    std::os::unix::fs::chown(&values, Some(65534), None).expect("chown to nobody (the tests run as root)");
    let planted = run_tool("values-merge", &["--in-place", "values.yaml", "--set", "b=2"], None, dir.path());
    planted.expect_code(4).expect_stderr_contains("belongs to another user");
    assert_eq!(std::fs::read_to_string(&values).expect("values"), "a: 1\n");
}
