//! Unit tests of the filter and verify logic on in-memory documents (no network).

use super::*;

const GITHUB_LINES: &str = "\
github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl
github.com ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEmKSENjQEezOmxkZMy7opKgwFB9nkt5YRrYMjNuG5N87uRgg6CLrbo5wAdT/y6v0mKV0U2w0WZ2YB/++Tpockg=
";

fn config_from(text: &str, target: TargetChoice) -> PinConfig {
    PinConfig {
        target,
        keys: KeySource::Lines { name: "lines".into(), text: text.into() },
        kinds: Vec::new(),
        expected: Vec::new(),
        keyscan_program: "ssh-keyscan".into(),
        timeout: Duration::from_secs(5),
    }
}

fn document(text: &str) -> Node {
    Document::parse(text, "t.yaml").expect("parses").root
}

#[test]
fn pins_published_lines_in_type_order_and_keeps_other_keys() {
    let mut root =
        document("a: 1\ndags:\n  gitSync:\n    repo: git@github.com:me/dags.git\n    knownHosts: \"\"\nz: yes\n");
    let pinned = pin(&config_from(GITHUB_LINES, TargetChoice::Document), &mut root).expect("pins");
    assert_eq!(pinned.host_field, "github.com");
    let text = airflow_kit_core::yaml::emit_document(&root);
    assert!(text.starts_with("a: 1\ndags:\n  gitSync:\n    repo: git@github.com:me/dags.git\n    knownHosts: |\n      github.com ssh-ed25519 AAAAC3"), "{text}");
    assert!(text.ends_with("z: yes\n"), "{text}");
    // Idempotent: a second run writes the same document.
    let mut again = document(&text);
    pin(&config_from(GITHUB_LINES, TargetChoice::Document), &mut again).expect("pins again");
    assert_eq!(airflow_kit_core::yaml::emit_document(&again), text);
}

#[test]
fn port_443_endpoint_gets_bracketed_field_and_github_keys() {
    let lines = GITHUB_LINES.replace("github.com ", "[ssh.github.com]:443 ");
    let mut root = document("");
    let target = TargetChoice::Repo("ssh://git@ssh.github.com:443/me/dags.git".into());
    let pinned = pin(&config_from(&lines, target), &mut root).expect("pins");
    assert!(pinned.block.lines().all(|line| line.starts_with("[ssh.github.com]:443 ssh-") || line.starts_with("[ssh.github.com]:443 ecdsa")));
    assert!(pinned.keys.iter().all(|(_, verdict)| verdict == &Verdict::Published("GitHub")));
}

#[test]
fn refusals() {
    let gitlab_key_as_github =
        "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAfuCHKVTjquxvt6CM6tdG4SLp1Btn/nOeHHE5UOzRdf\n";
    let error = pin(&config_from(gitlab_key_as_github, TargetChoice::Host("github.com".into())), &mut document(""))
        .expect_err("refused");
    assert_eq!(error.code, ExitCode::Refused);
    assert!(error.detail.as_deref().unwrap_or_default().contains("GitLab's key"), "{error:?}");

    let error = pin(&config_from(GITHUB_LINES, TargetChoice::Host("gitlab.com".into())), &mut document(""))
        .expect_err("no line for gitlab");
    assert_eq!(error.code, ExitCode::BadInput);

    let error = pin(&config_from("garbage here\n", TargetChoice::Host("github.com".into())), &mut document(""))
        .expect_err("garbage");
    assert_eq!((error.code, error.location.map(|l| l.line)), (ExitCode::BadInput, Some(1)));

    let error =
        pin(&config_from(GITHUB_LINES, TargetChoice::Document), &mut document("dags: 5\n")).expect_err("not a mapping");
    assert_eq!(error.code, ExitCode::BadInput);

    let mut config = config_from(GITHUB_LINES, TargetChoice::Document);
    config.expected = vec!["MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48".into()];
    let error = pin(&config, &mut document("")).expect_err("md5");
    assert!(error.hint.expect("hint").contains("MD5"));
}

#[test]
fn verify_values_document_reports_document_lines() {
    let text = format!(
        "dags:\n  gitSync:\n    knownHosts: |\n{}      github.com ssh-ed25519 AAAAbroken\n",
        GITHUB_LINES.lines().map(|line| format!("      {line}\n")).collect::<String>()
    );
    let report = verify(&text, "values.yaml", &VerifyConfig::default()).expect("verifies");
    assert_eq!(report.format, "values (dags.gitSync.knownHosts)");
    let verdicts: Vec<(usize, Option<usize>, &str)> =
        report.lines.iter().map(|line| (line.line, line.document_line, line.verdict)).collect();
    assert_eq!(verdicts, vec![(1, Some(4), "published"), (2, Some(5), "published"), (3, Some(6), "unreadable")]);
    assert_eq!(report.exit_code(), ExitCode::No);
}

#[test]
fn verify_refuses_missing_or_empty_blocks() {
    for text in ["", "dags:\n  gitSync:\n    knownHosts: \"\"\n", "dags: {}\n"] {
        let report = verify(text, "v.yaml", &VerifyConfig::default()).expect("report");
        assert!(report.problem.is_some(), "{text:?}");
        assert_eq!(report.exit_code(), ExitCode::No);
    }
    let error =
        verify("dags:\n  gitSync:\n    knownHosts: [a]\n", "v.yaml", &VerifyConfig::default()).expect_err("list");
    assert_eq!(error.code, ExitCode::BadInput);
}

#[test]
fn durations() {
    assert_eq!(parse_duration("10s").expect("10s"), Duration::from_secs(10));
    assert_eq!(parse_duration("500ms").expect("500ms"), Duration::from_millis(500));
    assert_eq!(parse_duration("1m30s").expect("1m30s"), Duration::from_secs(90));
    assert_eq!(parse_duration("3").expect("3"), Duration::from_secs(3));
    assert!(parse_duration("0s").is_err());
    assert!(parse_duration("soon").is_err());
    assert_eq!(format_duration(Duration::from_millis(1500)), "1.5s");
}

#[test]
fn verify_reads_a_file_whose_first_line_lost_its_host_field() {
    let text = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n";
    let report = verify(text, "known_hosts", &VerifyConfig::default()).expect("report");
    assert_eq!(report.format, "known_hosts");
    assert_eq!(report.lines[0].verdict, "unreadable");
    assert!(report.lines[0].reason.contains("host field is missing"));
}
