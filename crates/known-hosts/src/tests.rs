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

/// `pin` that must have pinned something.
fn pin_ok(config: &PinConfig, root: &mut Node) -> Pinned {
    match pin(config, root).unwrap_or_else(|error| panic!("{error:?}")) {
        PinOutcome::Pinned(pinned) => pinned,
        other => panic!("pinned nothing: {other:?}"),
    }
}

#[test]
fn pins_published_lines_in_type_order_and_keeps_other_keys() {
    let mut root =
        document("a: 1\ndags:\n  gitSync:\n    repo: git@github.com:me/dags.git\n    knownHosts: \"\"\nz: yes\n");
    let pinned = pin_ok(&config_from(GITHUB_LINES, TargetChoice::Document), &mut root);
    assert_eq!(pinned.host_field, "github.com");
    let text = airflow_kit_core::yaml::emit_document(&root);
    assert!(text.starts_with("a: 1\ndags:\n  gitSync:\n    repo: git@github.com:me/dags.git\n    knownHosts: |\n      github.com ssh-ed25519 AAAAC3"), "{text}");
    assert!(text.ends_with("z: yes\n"), "{text}");
    // Idempotent: a second run writes the same document.
    let mut again = document(&text);
    pin_ok(&config_from(GITHUB_LINES, TargetChoice::Document), &mut again);
    assert_eq!(airflow_kit_core::yaml::emit_document(&again), text);
}

#[test]
fn port_443_endpoint_gets_bracketed_field_and_github_keys() {
    let lines = GITHUB_LINES.replace("github.com ", "[ssh.github.com]:443 ");
    let mut root = document("");
    let target = TargetChoice::Repo("ssh://git@ssh.github.com:443/me/dags.git".into());
    let pinned = pin_ok(&config_from(&lines, target), &mut root);
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
    assert_eq!(report.format, ReportFormat::Values);
    let verdicts: Vec<(usize, Option<usize>, LineVerdict)> =
        report.lines.iter().map(|line| (line.line, line.document_line, line.verdict)).collect();
    use LineVerdict::{Published, Unreadable};
    assert_eq!(verdicts, vec![(1, Some(4), Published), (2, Some(5), Published), (3, Some(6), Unreadable)]);
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
fn verify_reads_a_file_whose_first_line_lost_its_host_field() {
    let text = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n";
    let report = verify(text, "known_hosts", &VerifyConfig::default()).expect("report");
    assert_eq!(report.format, ReportFormat::KnownHosts);
    assert_eq!(report.lines[0].verdict, LineVerdict::Unreadable);
    assert!(report.lines[0].reason.contains("host field is missing"));
}

const GITLAB_LINES: &str = "\
gitlab.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAfuCHKVTjquxvt6CM6tdG4SLp1Btn/nOeHHE5UOzRdf
gitlab.com ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBFSMqzJeV9rUzU4kWitGjeR4PWSa29SPqJ1fVkhtj3Hw9xjLVXVYrU9QlYWrOLXBpQ6KWjbjTDTdDkoohFzgbEY=
";

#[test]
fn one_expected_key_of_several_is_pinned_and_the_others_left_out() {
    // A server of our own (no provider publishes its keys) offering two keys; the person
    // checked only the ed25519 one out of band.
    let lines = GITLAB_LINES.replace("gitlab.com ", "[git.example.com]:2222 ");
    let mut config = config_from(&lines, TargetChoice::Host("git.example.com:2222".into()));
    config.expected = vec!["SHA256:eUXGGm1YGsMAS7vkcx6JOJdOGHPem5gQp4taiCfCLB8".into()];
    let mut root = document("");
    let pinned = pin_ok(&config, &mut root);
    assert_eq!(pinned.block, lines.lines().next().map(|line| format!("{line}\n")).expect("a line"));
    assert_eq!(pinned.keys.len(), 1);
    assert_eq!(pinned.keys[0].1, Verdict::Expected);
    let left_out: Vec<(&str, String)> =
        pinned.left_out.iter().map(|(key, verdict)| (key.key_type.as_str(), verdict.reason())).collect();
    assert_eq!(left_out.len(), 1, "{left_out:?}");
    assert_eq!(left_out[0].0, "ecdsa-sha2-nistp256");
    assert!(left_out[0].1.contains("not published") && left_out[0].1.contains("not expected"), "{left_out:?}");

    // None verified: refused, document untouched.
    config.expected.clear();
    let mut root = document("a: 1\n");
    let error = pin(&config, &mut root).expect_err("nothing verified");
    assert_eq!(error.code, ExitCode::Refused);
    assert_eq!(airflow_kit_core::yaml::emit_document(&root), "a: 1\n");
}

#[test]
fn a_rotated_key_is_refused_even_next_to_a_published_one() {
    let rotated: String = include_str!("../../../tests/fixtures/known-hosts/rotated_known_hosts")
        .lines()
        .filter(|line| line.starts_with("github.com "))
        .map(|line| format!("{line}\n"))
        .collect();
    let lines = format!("{GITHUB_LINES}{rotated}");
    let mut root = document("dags:\n  gitSync:\n    repo: git@github.com:me/dags.git\n");
    let error = pin(&config_from(&lines, TargetChoice::Document), &mut root).expect_err("rotated");
    assert_eq!(error.code, ExitCode::Refused);
    assert!(error.message.contains("rotated on 2023-03-24"), "{}", error.message);
    assert!(root.get_path(&KNOWN_HOSTS_PATH).is_none());
}

#[test]
fn a_repository_without_host_keys_leaves_the_document_alone() {
    let text = "dags:\n  gitSync:\n    repo: https://github.com/me/dags.git\n    knownHosts: |\n      old\n";
    for target in [
        TargetChoice::Document,
        TargetChoice::Repo("http://127.0.0.1:8080/dags.git".into()),
        TargetChoice::Host("https://github.com/me/dags.git".into()),
    ] {
        let mut root = document(text);
        let outcome = pin(&config_from(GITHUB_LINES, target.clone()), &mut root).expect("passes");
        let PinOutcome::NoHostKey { note, .. } = outcome else { panic!("{target:?}: {outcome:?}") };
        assert!(note.starts_with("no knownHosts is needed for an HTTP"), "{note}");
        assert_eq!(airflow_kit_core::yaml::emit_document(&root), text);
    }
    // verify agrees: no knownHosts is right for it.
    let report =
        verify("dags:\n  gitSync:\n    repo: https://github.com/me/dags.git\n", "v.yaml", &VerifyConfig::default())
            .expect("report");
    assert!(report.passed() && report.note.is_some(), "{report:?}");
}

#[test]
fn the_verify_report_reads_back_into_its_type_with_its_field_names() {
    let text = format!("{}github.com ssh-ed25519 AAAAbroken\n", GITHUB_LINES);
    let report = verify(&text, "known_hosts", &VerifyConfig::default()).expect("report");
    let yaml = airflow_kit_core::report::to_yaml(&report).expect("yaml");
    assert!(
        yaml.starts_with("source: known_hosts\nformat: known_hosts\nverified: false\naccepted: 2\nrefused: 1\nlines:\n  - line: 1\n    host: github.com\n    type: ssh-ed25519\n    fingerprint: SHA256:+DiY3"),
        "{yaml}"
    );
    assert!(yaml.contains("    verdict: unreadable\n"), "{yaml}");
    assert_eq!(airflow_kit_core::report::from_yaml::<Report>(&yaml, "known-hosts verify").expect("reads"), report);
}

/// Issue 11, item 5: a later values layer that swaps the pinned block for another provider's
/// published lines, a wildcard or a negated pattern does not pass `verify`.
#[test]
fn verify_checks_every_line_against_the_repositorys_host() {
    let verify_block = |repo: &str, block: &str, config: &VerifyConfig| {
        let lines: String = block.lines().map(|line| format!("      {line}\n")).collect();
        let text = format!("dags:\n  gitSync:\n    repo: {repo}\n    knownHosts: |\n{lines}");
        verify(&text, "v.yaml", config).expect("report")
    };
    let verdicts = |report: &Report| report.lines.iter().map(|line| line.verdict).collect::<Vec<_>>();
    let config = VerifyConfig::default();

    let report = verify_block("git@github.com:me/dags.git", GITHUB_LINES, &config);
    assert!(report.passed(), "{report:?}");
    assert_eq!(report.host.as_deref(), Some("github.com"));

    // GitLab's lines are published, but not for github.com.
    let report = verify_block("git@github.com:me/dags.git", GITLAB_LINES, &config);
    assert_eq!(verdicts(&report), vec![LineVerdict::OtherHost; 2]);
    assert!(report.lines[0].reason.contains("not for the repository's host `github.com`"), "{report:?}");
    assert_eq!(report.exit_code(), ExitCode::No);

    // GitHub's key under a wildcard, a `?` pattern, or next to a negated pattern; and a
    // GitLab key on a line that also names github.com is judged for github.com alone.
    let key = GITHUB_LINES.lines().next().and_then(|line| line.split_once(' ')).map(|(_, key)| key).expect("key");
    let gitlab_key = GITLAB_LINES.lines().next().and_then(|line| line.split_once(' ')).map(|(_, key)| key).expect("k");
    let block = format!(
        "*.github.com {key}\ngithu?.com {key}\ngithub.com,!evil.com {key}\ngithub.com,gitlab.com {gitlab_key}\n"
    );
    let report = verify_block("git@github.com:me/dags.git", &block, &config);
    use LineVerdict::{Pattern, Unverified};
    assert_eq!(verdicts(&report), vec![Pattern, Pattern, Pattern, Unverified], "{report:?}");
    assert!(report.lines[0].reason.contains("`*.github.com` is a wildcard pattern"), "{report:?}");
    assert!(report.lines[2].reason.contains("`!evil.com` is a negated pattern"), "{report:?}");
    // Even `--expect-fingerprint` does not make a pattern acceptable.
    let expected =
        VerifyConfig { expected: vec!["SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU".into()], repo: None };
    let report = verify_block("git@github.com:me/dags.git", &format!("* {key}\n"), &expected);
    assert_eq!(verdicts(&report), vec![Pattern]);

    // Port 443: the bracketed field, and GitHub's keys are published for it.
    let lines = GITHUB_LINES.replace("github.com ", "[ssh.github.com]:443 ");
    assert!(verify_block("ssh://git@ssh.github.com:443/me/dags.git", &lines, &config).passed());
    let report = verify_block("ssh://git@ssh.github.com:443/me/dags.git", GITHUB_LINES, &config);
    assert_eq!(verdicts(&report), vec![LineVerdict::OtherHost; 2]);

    // A plain known_hosts file: each line's own host without `--repo`, the repository's with it.
    assert!(verify(GITLAB_LINES, "known_hosts", &config).expect("report").passed());
    let with_repo = VerifyConfig { repo: Some("git@github.com:me/dags.git".into()), ..VerifyConfig::default() };
    let report = verify(GITLAB_LINES, "known_hosts", &with_repo).expect("report");
    assert_eq!(verdicts(&report), vec![LineVerdict::OtherHost; 2]);

    // A `--repo` that cannot be read is the caller's mistake; a document's repository that
    // cannot be read leaves nothing to check the lines against.
    let bad = VerifyConfig { repo: Some("ssh:///srv/dags.git".into()), ..VerifyConfig::default() };
    let error = verify(GITHUB_LINES, "known_hosts", &bad).expect_err("bad --repo");
    assert_eq!(error.code, ExitCode::BadInput);
    assert!(error.message.starts_with("`--repo`: "), "{}", error.message);
    let report = verify_block("ftp://github.com/me/dags.git", GITHUB_LINES, &config);
    assert!(report.problem.as_deref().is_some_and(|problem| problem.contains("cannot be read")), "{report:?}");
    assert_eq!(report.exit_code(), ExitCode::No);
}
