//! pod-inspect's command line: parse flags into a config per subcommand, run the library,
//! print the YAML report on stdout and progress on stderr, map the result to an exit code.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use airflow_kit_core::cli::{finish, say, write_stdout};
use airflow_kit_core::process::{find_kubectl, find_on_path};
use airflow_kit_core::report::to_yaml;
use airflow_kit_core::{Error, ExitCode};
use clap::Parser;
use pod_inspect::cli::{Cli, Command, TOOL};
use pod_inspect::{Kubectl, dags, diagnose, fernet, fix, status, ui, wait};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    finish(TOOL, run(cli))
}

fn run(cli: Cli) -> Result<ExitCode, Error> {
    // `--microk8s` picks `microk8s kubectl` even when `kubectl` is on PATH.
    let program = find_kubectl(cli.cluster.microk8s, find_on_path)?;
    let kubectl = Kubectl::new(program, &cli.cluster, cli.request_timeout);
    let release = cli.cluster.release;
    match cli.command {
        Command::Status(_) => {
            let snapshot = status::fetch(&kubectl, &release)?;
            let result = status::evaluate(&snapshot);
            write_stdout(&status::emit(&snapshot, &result)?)?;
            Ok(if result.healthy { ExitCode::Success } else { ExitCode::No })
        }
        Command::Wait(args) => {
            run_wait(&kubectl, wait::WaitConfig { release, timeout: args.timeout, interval: args.interval })
        }
        Command::Dags(args) => {
            let snapshot = status::fetch(&kubectl, &release)?;
            let config = dags::DagsConfig { release, pod: args.pod, sub_path: args.sub_path };
            let result = dags::check_dags(&kubectl, &snapshot, &config)?;
            write_stdout(&to_yaml(&result.report)?)?;
            // The answer "no" says why on stderr too: a caller that keeps stdout (the install)
            // still shows the person what is wrong.
            if let Some(problem) = result.report.problem.as_deref().filter(|_| !result.ok) {
                say(TOOL, &format!("{}: {problem}", result.report.pod));
                for line in result.report.git_sync_log.iter().flatten() {
                    say(TOOL, &format!("  git-sync: {line}"));
                }
            }
            Ok(if result.ok { ExitCode::Success } else { ExitCode::No })
        }
        Command::Diagnose(_) => {
            let snapshot = status::fetch(&kubectl, &release)?;
            let diagnosis = diagnose::diagnose(&kubectl, &snapshot)?;
            write_stdout(&to_yaml(&diagnose::report(&snapshot, &diagnosis))?)?;
            say_findings(&diagnosis.findings);
            Ok(if diagnosis.findings.is_empty() { ExitCode::Success } else { ExitCode::No })
        }
        Command::Fix(args) => run_fix(&kubectl, &release, args.yes),
        Command::FernetKey(_) => {
            write_stdout(&to_yaml(&fernet::fernet_key_report(&kubectl, &release)?)?)?;
            Ok(ExitCode::Success)
        }
        Command::Ui(args) => run_ui(&kubectl, ui::UiConfig { release, port: args.port, address: args.address }),
    }
}

/// Each finding on stderr: what, the line that proves it (where it was seen), and the fix.
fn say_findings(findings: &[diagnose::Finding]) {
    for finding in findings {
        say(TOOL, &format!("{}: {}; fix: {}", finding.id, finding.title, finding.fix));
        let seen = finding.seen_in.first().map(String::as_str).unwrap_or("the release");
        // The evidence is one line in the report; on stderr keep it one line per `say` line.
        for line in finding.evidence.lines() {
            say(TOOL, &format!("  evidence ({seen}): {line}"));
        }
    }
}

fn run_wait(kubectl: &Kubectl, config: wait::WaitConfig) -> Result<ExitCode, Error> {
    let terminal = std::io::stderr().is_terminal();
    let spinner = ['|', '/', '-', '\\'];
    let mut tick = 0usize;
    let mut last_line = String::new();
    let mut progress = |p: &wait::Progress| {
        let line = format!(
            "{}/{} pods ready; waiting for {} ({}s)",
            p.ready_pods,
            p.total_pods,
            p.waiting_for.as_deref().unwrap_or("the jobs"),
            p.elapsed.as_secs()
        );
        if terminal {
            tick += 1;
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[2K{TOOL}: {} {line}", spinner[tick % spinner.len()]);
            let _ = stderr.flush();
        } else {
            // Without a terminal, one line per change: logs stay short and readable.
            let without_time = line.rsplit_once(" (").map(|(head, _)| head.to_string()).unwrap_or_default();
            if without_time != last_line {
                say(TOOL, &line);
                last_line = without_time;
            }
        }
    };
    let outcome = wait::wait(kubectl, &config, &mut progress);
    if terminal {
        let _ = write!(std::io::stderr(), "\r\x1b[2K");
    }
    let (snapshot, diagnosis, reason) = match outcome? {
        wait::Outcome::Healthy(snapshot, result) => {
            say(TOOL, &format!("release `{}` is healthy", config.release));
            write_stdout(&status::emit(&snapshot, &result)?)?;
            return Ok(ExitCode::Success);
        }
        wait::Outcome::Failed(snapshot, diagnosis) => {
            say(TOOL, "stopped waiting: this failure will not heal by waiting");
            (snapshot, diagnosis, wait::StopReason::Failed)
        }
        wait::Outcome::TimedOut(snapshot, diagnosis) => {
            say(TOOL, &format!("timed out after {}", airflow_kit_core::duration::format(config.timeout)));
            (snapshot, diagnosis, wait::StopReason::TimedOut)
        }
    };
    say_findings(&diagnosis.findings);
    write_stdout(&to_yaml(&wait::stopped_report(&snapshot, &diagnosis, reason))?)?;
    Ok(ExitCode::No)
}

fn run_fix(kubectl: &Kubectl, release: &str, yes: bool) -> Result<ExitCode, Error> {
    let snapshot = status::fetch(kubectl, release)?;
    let plan = fix::plan(&snapshot);
    if plan.actions.is_empty() {
        say(TOOL, "nothing to delete: no failed migration job and no failed or crash-looping pod");
        write_stdout(&to_yaml(&fix::plan_report(kubectl, &snapshot, &plan, false))?)?;
        return Ok(ExitCode::Success);
    }
    if !yes {
        for action in &plan.actions {
            say(TOOL, &format!("would run: {}  # {}", kubectl.display(&action.args), action.reason));
        }
        let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
        if !interactive || !confirm(&format!("delete these {} objects?", plan.actions.len())) {
            say(TOOL, "nothing deleted; run `pod-inspect fix --yes` to delete");
            write_stdout(&to_yaml(&fix::plan_report(kubectl, &snapshot, &plan, false))?)?;
            return Ok(ExitCode::Success);
        }
    }
    let results = fix::apply(kubectl, &plan);
    let mut report = fix::plan_report(kubectl, &snapshot, &plan, true);
    let mut failures = 0;
    for ((action, result), reported) in results.iter().zip(report.actions.iter_mut()) {
        match result {
            Ok(output) => {
                say(TOOL, &format!("deleted {}: {output}", action.object));
                reported.result = Some("deleted".into());
            }
            Err(error) => {
                failures += 1;
                let _ = std::io::stderr().write_all(error.render(TOOL).as_bytes());
                reported.result = Some(format!("failed: {}", error.message));
            }
        }
    }
    write_stdout(&to_yaml(&report)?)?;
    if failures > 0 {
        return Err(Error::external(format!("{failures} of {} deletes failed", results.len()))
            .with_hint("see kubectl's messages above; run `pod-inspect fix` again once fixed"));
    }
    Ok(ExitCode::Success)
}

fn confirm(question: &str) -> bool {
    let _ = write!(std::io::stderr(), "{TOOL}: {question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    if std::io::stdin().read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

fn run_ui(kubectl: &Kubectl, config: ui::UiConfig) -> Result<ExitCode, Error> {
    let plan = ui::plan(kubectl, &config)?;
    for warning in &plan.warnings {
        say(TOOL, warning);
    }
    write_stdout(&to_yaml(&ui::plan_report(kubectl, &config, &plan))?)?;
    let Some(args) = &plan.forward else {
        say(TOOL, &format!("`svc/{}` is a NodePort service: open {}", plan.service, plan.url));
        return Ok(ExitCode::Success);
    };
    let stop = Arc::new(AtomicBool::new(false));
    // Ctrl-C sets the flag instead of killing us, so we can end the forward cleanly.
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, stop.clone())
            .map_err(|error| Error::external(format!("cannot handle Ctrl-C: {error}")))?;
    }
    say(TOOL, &format!("forwarding {} to `svc/{}`; press Ctrl-C to stop", plan.url, plan.service));
    ui::forward(kubectl, args, stop)?;
    say(TOOL, "port-forward ended");
    Ok(ExitCode::Success)
}
