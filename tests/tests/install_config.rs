//! The documented example config is a real config: `cargo xtask install --config` reads it
//! (a dry run stops at the access check, since github.com is not reachable from a test).

use std::process::Command;

use airflow_kit_tests::bins::{run_command, workspace_root};

#[test]
fn the_example_config_parses_and_names_its_settings() {
    let example = workspace_root().join("airflow-kit.example.yaml");
    let text = std::fs::read_to_string(&example).expect("example config");
    let document = airflow_kit_core::yaml::parse_document(&text, "example").expect("valid YAML");
    assert_eq!(document.get_path(&["dags", "repo"]).and_then(|n| n.as_str()), Some("git@github.com:me/dags.git"));
    assert_eq!(document.get_path(&["chart", "version"]).and_then(|n| n.as_str()), Some("1.20.0"));
    // Each key of the file is documented with the flag that overrides it.
    let help = run_command(
        {
            let mut command = Command::new(env!("CARGO"));
            command.args(["run", "--quiet", "-p", "xtask", "--", "install", "--help"]).current_dir(workspace_root());
            command
        },
        None,
    );
    help.expect_success();
    for flag in text
        .lines()
        .filter_map(|l| l.split("# --").nth(1))
        .map(|rest| rest.split([' ', ':', ';', '/', ',']).next().unwrap_or(""))
    {
        assert!(
            help.stdout.contains(&format!("--{flag}")),
            "`--{flag}` from the example is not a flag of install\n{help}"
        );
    }
}
