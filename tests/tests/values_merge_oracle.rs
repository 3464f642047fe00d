//! Helm judges values-merge: for every case, `helm template -f <our output>` must print the
//! same as `helm template -f f1 -f f2 ... --set ...` on the raw inputs, with Helm 3 and Helm 4.
//! The vectors of helm-values.md, then 600 generated cases (nested maps, lists, type changes,
//! nulls, YAML 1.1 scalars quoted and not, keys with dots and slashes, every --set form).
//! Cases are batched under `case_N:` keys so one helm run judges a hundred of them.
//! Then the cumulative file as people keep it (comments, CRLF, `--unset`) and every malformed
//! `--set` form, each judged by real Helm.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use airflow_kit_tests::bins::{run_command, shared_dir, tool_command};
use airflow_kit_tests::helm::{helm_template, oracle_chart};
use airflow_kit_tests::tools::helms;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// One case: values files (YAML mapping bodies) and --set-family flags (flag, argument).
#[derive(Debug, Clone)]
struct Case {
    files: Vec<String>,
    sets: Vec<(&'static str, String)>,
}

fn case(files: &[&str], sets: &[(&'static str, &str)]) -> Case {
    Case {
        files: files.iter().map(|f| f.to_string()).collect(),
        sets: sets.iter().map(|(f, a)| (*f, a.to_string())).collect(),
    }
}

/// The vectors of shared/reference/helm-values.md, section 6, and the traps of section 7.
fn vectors() -> Vec<Case> {
    vec![
        case(&["a: {x: 1, z: 2}", "a: {z: 3}"], &[]),
        case(&["l: [1, 2]", "l: [3]"], &[]),
        case(&["a: {x: 1}", "a: 5"], &[]),
        case(&["a: {x: 1}", "a: null"], &[]),
        case(&["p: {httpGet: {path: /}}", "p: {httpGet: null, exec: {command: [x]}}"], &[]),
        case(&["a: {d: 1}"], &[("--set", "a.b=c")]),
        case(&[], &[("--set", "v=1.0"), ("--set", "w=0123"), ("--set", "x=10"), ("--set", "y=TRUE")]),
        case(&[], &[("--set-string", "v=10")]),
        case(&[], &[("--set", "n={a,b}")]),
        case(&[], &[("--set", "l[0]=a,l[3]=b")]),
        case(&[], &[("--set", r"a\.b=1,v=x\,y")]),
        case(&[], &[("--set", "a[0].b=c"), ("--set", "m[1][0]=x")]),
        case(&["v: yes\nw: 'yes'\nx: on\ny: 0755\nz: 1_000\nu: ~\nt: 2024-01-01"], &[]),
        case(&["on: 1\n'on': 2\n10: x"], &[("--set", "on=3")]),
        case(&["big: 1000000\nbigger: 123456789012"], &[]),
        case(&["s: |\n  line one\n  line two\n"], &[("--set-string", "t=yes"), ("--set", "u=no")]),
        case(&["l: [1, 2, 3]"], &[("--set", "l[1]=x")]),
        case(&["a: {b: 1}"], &[("--set-json", r#"a={"c":[1,"x",null]}"#), ("--set", "a.d=2")]),
        case(&[], &[("--set-literal", "lit=a,b=c{d}")]),
        case(&["base: &b {x: 1}\nderived:\n  <<: *b\n  z: 2"], &[]),
        case(&["k: 'it''s'\nq: \"tab\\there\"\nr: \"multi\\nline\""], &[]),
        // Odd but well-formed: Helm takes these as written, and so do we.
        case(&[], &[("--set", "a]=1"), ("--set", "t=1,"), ("--set", "e=,l[0]=")]),
    ]
}

fn escape_key(key: &str) -> String {
    key.chars().fold(String::new(), |mut out, c| {
        if ".,=[]\\{}".contains(c) {
            out.push('\\');
        }
        out.push(c);
        out
    })
}

/// Keys as written in files (with their YAML spelling) and their plain text for --set.
const FILE_KEYS: &[&str] = &["a", "b", "c", "x.y", "s/t", "on", "'on'", "10", "k-1", "\"q r\""];
const SET_KEYS: &[&str] = &["a", "b", "c", "x.y", "s/t", "on", "10", "k-1"];

/// Scalar tokens as written in files: YAML 1.1 look-alikes, numbers Helm reads oddly, quoted
/// and plain, empty, and strings that need care.
const FILE_SCALARS: &[&str] = &[
    "yes",
    "no",
    "on",
    "off",
    "y",
    "n",
    "Y",
    "NO",
    "true",
    "True",
    "FALSE",
    "~",
    "null",
    "Null",
    "''",
    "0755",
    "0o17",
    "0x1F",
    "1_000",
    "10",
    "-3",
    "+4",
    "1.5",
    "1e3",
    ".5",
    "2024-01-01",
    "hello",
    "'yes'",
    "\"no\"",
    "'on'",
    "\"10\"",
    "\"1.5\"",
    "\"a: b\"",
    "'it''s'",
    "\"tab\\there\"",
    "1000000",
    "08",
    "0.0",
    "-0",
    "1e400",
    "\"~\"",
    "a b c",
    "git@github.com:me/dags.git",
    "!!str 12",
    "'#not a comment'",
];

const SET_VALUES: &[&str] = &[
    "true",
    "FALSE",
    "null",
    "Null",
    "0",
    "10",
    "-7",
    "0123",
    "1.5",
    "yes",
    "on",
    r"x\,y",
    "",
    "hello",
    "1e3",
    "9999999999",
    "99999999999999999999",
    "{a,b}",
    "{}",
    "{1,yes}",
    "+5",
    "00",
];

#[derive(Debug, Clone)]
enum Val {
    Scalar(&'static str),
    Literal(&'static str),
    List(Vec<Val>),
    Map(Vec<(&'static str, Val)>),
}

fn val_strategy() -> impl Strategy<Value = Val> {
    let leaf = prop_oneof![
        6 => prop::sample::select(FILE_SCALARS).prop_map(Val::Scalar),
        1 => prop::sample::select(&["one\ntwo\n", "keep\n\n", "strip"][..]).prop_map(Val::Literal),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Val::List),
            prop::collection::vec((prop::sample::select(FILE_KEYS), inner), 0..4).prop_map(|entries| {
                // Helm keys must be unique per mapping (we refuse duplicates; see the CLI tests).
                let mut seen = std::collections::HashSet::new();
                Val::Map(entries.into_iter().filter(|(k, _)| seen.insert(helm_key(k))).collect())
            }),
        ]
    })
}

/// The key Helm sees for a file key spelling (plain `on` is the key "true").
fn helm_key(spelling: &str) -> String {
    match spelling {
        "on" => "true".into(),
        "'on'" => "on".into(),
        "\"q r\"" => "q r".into(),
        other => other.into(),
    }
}

fn top_map_strategy() -> impl Strategy<Value = Val> {
    prop::collection::vec((prop::sample::select(FILE_KEYS), val_strategy()), 0..4).prop_map(|entries| {
        let mut seen = std::collections::HashSet::new();
        Val::Map(entries.into_iter().filter(|(k, _)| seen.insert(helm_key(k))).collect())
    })
}

fn set_path_strategy() -> impl Strategy<Value = String> {
    (prop::collection::vec(prop::sample::select(SET_KEYS), 1..4), prop::option::of(0usize..3)).prop_map(
        |(keys, index)| {
            let mut path: Vec<String> = keys.iter().map(|k| escape_key(k)).collect();
            if let Some(index) = index {
                let last = path.pop().unwrap_or_default();
                path.push(format!("{last}[{index}]"));
            }
            path.join(".")
        },
    )
}

fn set_strategy() -> impl Strategy<Value = (&'static str, String)> {
    prop_oneof![
        5 => (set_path_strategy(), prop::sample::select(SET_VALUES)).prop_map(|(p, v)| ("--set", format!("{p}={v}"))),
        2 => (set_path_strategy(), prop::sample::select(&["10", "true", "yes", "null", "x", ""][..]))
            .prop_map(|(p, v)| ("--set-string", format!("{p}={v}"))),
        2 => (set_path_strategy(), prop::sample::select(&[r#"{"a":1}"#, r#"[1,"x",null]"#, r#""s""#, "null", "1.5", "true", r#"{"n":{"m":[]}}"#][..]))
            .prop_map(|(p, v)| ("--set-json", format!("{p}={v}"))),
        1 => (set_path_strategy(), prop::sample::select(&["a,b=c{}", r"x\y", "yes"][..]))
            .prop_map(|(p, v)| ("--set-literal", format!("{p}={v}"))),
        1 => set_path_strategy().prop_map(|p| ("--set-file", format!("{p}=SETFILE"))),
    ]
}

fn case_strategy() -> impl Strategy<Value = (Vec<Val>, Vec<(&'static str, String)>)> {
    (prop::collection::vec(top_map_strategy(), 1..4), prop::collection::vec(set_strategy(), 0..4))
}

/// Renders a value as block YAML at `indent` after a key (`key:` already written).
fn render(out: &mut String, value: &Val, indent: usize) {
    let pad = " ".repeat(indent);
    match value {
        Val::Scalar(token) => {
            let _ = writeln!(out, " {token}");
        }
        Val::Literal(text) => {
            let chomp = if !text.ends_with('\n') {
                "-"
            } else if text.ends_with("\n\n") {
                "+"
            } else {
                ""
            };
            let _ = writeln!(out, " |{chomp}");
            for line in text.strip_suffix('\n').unwrap_or(text).split('\n') {
                if line.is_empty() {
                    out.push('\n');
                } else {
                    let _ = writeln!(out, "{pad}{line}");
                }
            }
        }
        Val::List(items) if items.is_empty() => out.push_str(" []\n"),
        Val::Map(entries) if entries.is_empty() => out.push_str(" {}\n"),
        Val::List(items) => {
            out.push('\n');
            for item in items {
                let _ = write!(out, "{pad}- item:");
                render(out, item, indent + 4);
            }
        }
        Val::Map(entries) => {
            out.push('\n');
            for (key, item) in entries {
                let _ = write!(out, "{pad}{key}:");
                render(out, item, indent + 2);
            }
        }
    }
}

fn render_file(value: &Val) -> String {
    let mut out = String::new();
    if let Val::Map(entries) = value {
        for (key, item) in entries {
            let _ = write!(out, "{key}:");
            render(&mut out, item, 2);
        }
    }
    out
}

fn generated_cases(count: usize) -> Vec<Case> {
    let seed = [42u8; 32];
    let mut runner = TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
    let strategy = case_strategy();
    (0..count)
        .map(|_| {
            let (files, sets) = strategy.new_tree(&mut runner).expect("generate").current();
            Case { files: files.iter().map(render_file).collect(), sets }
        })
        .collect()
}

/// Nests a file body under `case_N:` (two more spaces of indentation).
fn nest(index: usize, body: &str) -> String {
    if body.trim().is_empty() {
        return format!("case_{index}: {{}}\n");
    }
    let mut out = format!("case_{index}:\n");
    for line in body.lines() {
        if line.is_empty() {
            out.push('\n');
        } else {
            let _ = writeln!(out, "  {line}");
        }
    }
    out
}

struct Workspace {
    dir: tempfile::TempDir,
    set_file: PathBuf,
}

impl Workspace {
    fn new() -> Workspace {
        let dir = tempfile::tempdir().expect("temp dir");
        let set_file = dir.path().join("set-file.txt");
        std::fs::write(&set_file, "from a file\nyes\n").expect("set file");
        Workspace { dir, set_file }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// The files and flags of a batch of cases, each case under its own top-level key.
fn batch_arguments(ws: &Workspace, name: &str, cases: &[(usize, &Case)]) -> (Vec<PathBuf>, Vec<String>) {
    let layers = cases.iter().map(|(_, c)| c.files.len()).max().unwrap_or(0);
    let mut files = Vec::new();
    for layer in 0..layers {
        let mut text = String::new();
        for (index, case) in cases {
            text.push_str(&nest(*index, case.files.get(layer).map(String::as_str).unwrap_or("")));
        }
        let path = ws.path(&format!("{name}-layer{layer}.yaml"));
        std::fs::write(&path, text).expect("layer file");
        files.push(path);
    }
    let mut flags = Vec::new();
    for (index, case) in cases {
        for (flag, argument) in &case.sets {
            flags.push(flag.to_string());
            let argument = argument.replace("SETFILE", &ws.set_file.display().to_string());
            flags.push(format!("case_{index}.{argument}"));
        }
    }
    (files, flags)
}

fn values_merge(args: &[String], dir: &Path) -> airflow_kit_tests::Run {
    let mut command = tool_command("values-merge");
    command.args(args).current_dir(dir);
    run_command(command, None)
}

/// Judges a batch with every installed Helm: raw inputs vs our merged file vs our in-place
/// cumulative file. On a difference, names the first case that differs and shows it.
fn judge(ws: &Workspace, name: &str, cases: &[(usize, &Case)], test: &str) {
    let (files, flags) = batch_arguments(ws, name, cases);
    let file_args: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();

    let merged = values_merge(&[file_args.clone(), flags.clone()].concat(), ws.dir.path());
    merged.expect_success();
    let merged_path = ws.path(&format!("{name}-merged.yaml"));
    std::fs::write(&merged_path, &merged.stdout).expect("merged file");

    let cumulative = ws.path(&format!("{name}-cumulative.yaml"));
    if let Some(first) = files.first() {
        std::fs::copy(first, &cumulative).expect("copy");
    }
    let mut in_place_args = vec!["--in-place".to_string(), cumulative.display().to_string()];
    in_place_args.extend(file_args.iter().skip(1).cloned());
    in_place_args.extend(flags.iter().cloned());
    let in_place = values_merge(&in_place_args, ws.dir.path());
    // Every generated file is block style: each must be edited line by line, never rewritten.
    in_place.expect_success();
    assert!(!in_place.stderr.contains("could not be edited"), "{name} was written whole\n{in_place}");

    let chart = oracle_chart(ws.dir.path(), "oracle", None);
    for (helm_name, helm) in helms(test) {
        let home = ws.path(&format!("helm-home-{helm_name}"));
        let raw_args: Vec<String> =
            file_args.iter().flat_map(|f| ["-f".to_string(), f.clone()]).chain(flags.iter().cloned()).collect();
        let (ok, expected, stderr) = helm_template(&helm, &home, &chart, &raw_args);
        assert!(ok, "{helm_name} refused the raw inputs of {name}: {stderr}");
        for (what, path) in [("merged output", &merged_path), ("in-place file", &cumulative)] {
            let (ok, actual, stderr) = helm_template(&helm, &home, &chart, &["-f".into(), path.display().to_string()]);
            assert!(ok, "{helm_name} refused our {what} of {name}: {stderr}");
            if actual != expected {
                report_difference(&expected, &actual, cases, helm_name, what);
            }
        }
    }
}

fn report_difference(expected: &str, actual: &str, cases: &[(usize, &Case)], helm_name: &str, what: &str) -> ! {
    let strip = |text: &str| {
        text.lines().filter(|l| !l.starts_with("---") && !l.starts_with("# Source")).collect::<Vec<_>>().join("\n")
    };
    let parse = |text: &str| {
        airflow_kit_core::yaml::parse_document(&strip(text), "helm").expect("helm output parses").to_json()
    };
    let (expected, actual) = (parse(expected), parse(actual));
    for (index, case) in cases {
        let key = format!("case_{index}");
        if expected.get(&key) != actual.get(&key) {
            panic!(
                "{helm_name}: our {what} differs for {key}\ncase: {case:#?}\nhelm on raw inputs: {}\nhelm on ours:       {}",
                expected.get(&key).map(|v| v.to_string()).unwrap_or_default(),
                actual.get(&key).map(|v| v.to_string()).unwrap_or_default()
            );
        }
    }
    panic!("{helm_name}: our {what} differs outside the cases\nexpected: {expected}\nactual: {actual}");
}

#[test]
fn helm_values_md_vectors_agree_with_helm() {
    let ws = Workspace::new();
    let cases = vectors();
    let indexed: Vec<(usize, &Case)> = cases.iter().enumerate().collect();
    judge(&ws, "vectors", &indexed, "helm_values_md_vectors_agree_with_helm");
}

#[test]
fn generated_cases_agree_with_helm() {
    let test = "generated_cases_agree_with_helm";
    let ws = Workspace::new();
    let cases = generated_cases(700);
    // Cases Helm itself refuses (a --set path through a scalar, say) cannot share a batch;
    // values-merge must refuse them too, and Helm is asked about a sample of them one by one.
    let mut accepted = Vec::new();
    let mut refused = Vec::new();
    for (index, case) in cases.iter().enumerate() {
        let (files, flags) = batch_arguments(&ws, &format!("probe{index}"), &[(index, case)]);
        let args: Vec<String> = files.iter().map(|f| f.display().to_string()).chain(flags).collect();
        let run = values_merge(&args, ws.dir.path());
        match run.code {
            0 => accepted.push((index, case)),
            2 => refused.push((index, case, run.stderr)),
            _ => panic!("unexpected exit\n{run}"),
        }
    }
    assert!(accepted.len() >= 500, "only {} of 700 generated cases were valid", accepted.len());
    for chunk in accepted.chunks(150) {
        judge(&ws, &format!("batch{}", chunk[0].0), chunk, test);
    }
    let chart = oracle_chart(ws.dir.path(), "oracle", None);
    for (helm_name, helm) in helms(test) {
        for (index, case, our_error) in refused.iter().take(8) {
            let (files, flags) = batch_arguments(&ws, &format!("refused{index}"), &[(*index, case)]);
            let args: Vec<String> =
                files.iter().flat_map(|f| ["-f".to_string(), f.display().to_string()]).chain(flags).collect();
            let (ok, _, _) = helm_template(&helm, &ws.path(&format!("home-{helm_name}")), &chart, &args);
            assert!(!ok, "{helm_name} accepts case {index} that values-merge refused ({our_error})\n{case:#?}");
        }
    }
}

/// `--defaults` with the real Airflow chart's values.yaml: a null deletes a key the chart
/// defines, user maps merge over default maps, scalars and lists replace them.
#[test]
fn defaults_agree_with_helm_on_the_real_airflow_chart() {
    let test = "defaults_agree_with_helm_on_the_real_airflow_chart";
    let ws = Workspace::new();
    let chart_values = shared_dir().join("airflow-chart/1.20.0/values.yaml");
    let defaults_text = std::fs::read_to_string(&chart_values).expect("real chart values");
    let with_defaults = oracle_chart(ws.dir.path(), "airflow-defaults", Some(&defaults_text));
    let empty = oracle_chart(ws.dir.path(), "empty", None);
    let cases = [
        case(&["dags:\n  gitSync:\n    enabled: true\n    repo: git@github.com:me/dags.git\n"], &[]),
        case(&["dags:\n  gitSync: null\n"], &[]),
        case(
            &["apiServer:\n  livenessProbe: null\nworkers:\n  replicas: 3\n"],
            &[("--set", "executor=KubernetesExecutor")],
        ),
        case(&["images:\n  airflow:\n    repository: my/airflow\n    tag: ~\n"], &[]),
        case(&["notInChart: null\nenv: [{name: A, value: b}]\n"], &[("--set", "webserverSecretKey=null")]),
        case(&["dags: 5\n"], &[]),
        case(&["labels: {team: data}\n", "labels: null\n"], &[("--set-string", "postgresql.enabled=yes")]),
    ];
    for (index, case) in cases.iter().enumerate() {
        let (files, flags) = (0..case.files.len())
            .map(|layer| {
                let path = ws.path(&format!("defaults{index}-{layer}.yaml"));
                std::fs::write(&path, &case.files[layer]).expect("write");
                path.display().to_string()
            })
            .fold((Vec::new(), Vec::new()), |(mut files, flags), f| {
                files.push(f);
                (files, flags)
            });
        let mut flags: Vec<String> = flags;
        for (flag, argument) in &case.sets {
            flags.push(flag.to_string());
            flags.push(argument.clone());
        }
        for (helm_name, helm) in helms(test) {
            let mut args = files.clone();
            args.extend(flags.iter().cloned());
            args.extend(["--defaults".to_string(), chart_values.display().to_string()]);
            args.extend(["--helm-major".to_string(), helm_name.trim_start_matches("helm").to_string()]);
            let ours = values_merge(&args, ws.dir.path());
            ours.expect_success();
            let effective = ws.path(&format!("effective{index}-{helm_name}.yaml"));
            std::fs::write(&effective, &ours.stdout).expect("write");
            let home = ws.path(&format!("home-{helm_name}"));
            let raw: Vec<String> =
                files.iter().flat_map(|f| ["-f".to_string(), f.clone()]).chain(flags.iter().cloned()).collect();
            let (ok, expected, stderr) = helm_template(&helm, &home, &with_defaults, &raw);
            assert!(ok, "{stderr}");
            let (ok, actual, stderr) =
                helm_template(&helm, &home, &empty, &["-f".into(), effective.display().to_string()]);
            assert!(ok, "{stderr}");
            let body =
                |text: &str| text.split_once("templates/values.yaml\n").map(|(_, b)| b.to_string()).unwrap_or_default();
            assert_eq!(body(&actual), body(&expected), "{helm_name}: case {index} differs: {case:#?}");
        }
    }
}

/// `helm template` of `chart` with `args`, which Helm must accept; only the values' body.
fn rendered(helm: &Path, home: &Path, chart: &Path, args: &[String]) -> String {
    let (ok, stdout, stderr) = helm_template(helm, home, chart, args);
    assert!(ok, "helm refused {args:?}: {stderr}");
    stdout.lines().filter(|l| !l.starts_with("---") && !l.starts_with("# Source")).collect::<Vec<_>>().join("\n")
}

/// Runs an in-place merge on `before` (written to a fresh cumulative file) and judges it with
/// each Helm: the file afterwards must render exactly as the file before plus the same flags.
/// Returns the file's new text.
fn in_place_judged(ws: &Workspace, name: &str, before: &str, flags: &[String], test: &str) -> String {
    let original = ws.path(&format!("{name}-before.yaml"));
    std::fs::write(&original, before).expect("write");
    let cumulative = ws.path(&format!("{name}.yaml"));
    std::fs::write(&cumulative, before).expect("write");
    let mut args = vec!["--in-place".to_string(), cumulative.display().to_string()];
    args.extend(flags.iter().cloned());
    values_merge(&args, ws.dir.path()).expect_success().expect_stderr_contains("wrote");
    let after = std::fs::read_to_string(&cumulative).expect("read");
    let chart = oracle_chart(ws.dir.path(), &format!("{name}-chart"), None);
    for (helm_name, helm) in helms(test) {
        let home = ws.path(&format!("home-{helm_name}"));
        let mut raw = vec!["-f".to_string(), original.display().to_string()];
        raw.extend(flags.iter().cloned());
        let expected = rendered(&helm, &home, &chart, &raw);
        let actual = rendered(&helm, &home, &chart, &["-f".to_string(), cumulative.display().to_string()]);
        assert_eq!(actual, expected, "{helm_name}: the edited file does not mean the merge\n{after}");
    }
    after
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| item.to_string()).collect()
}

/// Defect 6: a changed entry keeps its comment, whatever its value's style (double- and
/// single-quoted, plain, a block scalar), and Helm reads the file as the merge.
#[test]
fn in_place_keeps_the_comment_of_each_changed_value() {
    let test = "in_place_keeps_the_comment_of_each_changed_value";
    let ws = Workspace::new();
    let banner = ws.path("banner.txt");
    std::fs::write(&banner, "maintenance\nall day\n").expect("write");
    let before = "\
# Airflow images, pinned by hand.
images:
  airflow:
    repository: apache/airflow # plain: the upstream image
    tag: \"2.10.5\"  # pinned after incident 42
    pullPolicy: 'IfNotPresent'   # single-quoted
  gitSync:
    tag: v4.3.0
webserver:
  bannerText: |  # shown above every page
    read-only day
  replicas: 1
";
    let flags = vec![
        "--set".to_string(),
        "images.airflow.tag=2.10.6,images.airflow.repository=my/airflow,images.airflow.pullPolicy=Always".to_string(),
        "--set-file".to_string(),
        format!("webserver.bannerText={}", banner.display()),
    ];
    let after = in_place_judged(&ws, "comments", before, &flags, test);
    let expected = "\
# Airflow images, pinned by hand.
images:
  airflow:
    repository: my/airflow # plain: the upstream image
    tag: \"2.10.6\"  # pinned after incident 42
    pullPolicy: Always   # single-quoted
  gitSync:
    tag: v4.3.0
webserver:
  bannerText: |  # shown above every page
    maintenance
    all day
  replicas: 1
";
    assert_eq!(after, expected);
}

/// Defect 6: a CRLF file stays CRLF in every line, the lines written new included, whether it
/// is edited line by line or (when it cannot be) written whole.
#[test]
fn in_place_keeps_a_crlf_file_crlf() {
    let test = "in_place_keeps_a_crlf_file_crlf";
    let ws = Workspace::new();
    let lf = "\
# written on Windows
executor: CeleryExecutor  # keep Celery
dags:
  gitSync:
    repo: git@github.com:me/dags.git
    knownHosts: |
      github.com ssh-ed25519 AAAAold
images:
  airflow:
    tag: \"2.10.5\"  # pinned
";
    let before = lf.replace('\n', "\r\n");
    // Helm applies --set-json before --set: `env` is new before `workers` is.
    let flags = strings(&[
        "--set",
        "dags.gitSync.branch=main,images.airflow.tag=2.10.6,workers.replicas=2",
        "--set-string",
        "dags.gitSync.knownHosts=github.com ssh-ed25519 AAAAnew\ngithub.com ssh-rsa AAAArsa\n",
        "--set-json",
        r#"env=[{"name":"A","value":"b"}]"#,
    ]);
    let after = in_place_judged(&ws, "crlf", &before, &flags, test);
    let expected = "\
# written on Windows
executor: CeleryExecutor  # keep Celery
dags:
  gitSync:
    repo: git@github.com:me/dags.git
    knownHosts: |
      github.com ssh-ed25519 AAAAnew
      github.com ssh-rsa AAAArsa
    branch: main
images:
  airflow:
    tag: \"2.10.6\"  # pinned
env:
  - name: A
    value: b
workers:
  replicas: 2
"
    .replace('\n', "\r\n");
    assert_eq!(after, expected);

    // A file in flow style cannot be edited line by line: written whole, still CRLF, and the
    // user is told the comments went.
    let flow = "# all on one line\r\n{executor: CeleryExecutor, workers: {replicas: 1}}\r\n";
    let cumulative = ws.path("flow.yaml");
    std::fs::write(&cumulative, flow).expect("write");
    let run = values_merge(
        &strings(&["--in-place", &cumulative.display().to_string(), "--set", "workers.replicas=2"]),
        ws.dir.path(),
    );
    run.expect_success().expect_stderr_contains("could not be edited line by line");
    let whole = std::fs::read_to_string(&cumulative).expect("read");
    assert_eq!(whole, "executor: CeleryExecutor\r\nworkers:\r\n  replicas: 2\r\n");
}

/// Defect 5: the orchestrator switches the UI back from NodePort with `--unset`. Setting the
/// exposure the way it does and unsetting it again gives back the cumulative file byte for
/// byte; a file whose NodePort lines were written by hand loses exactly those lines and their
/// comments; and Helm with the real chart's defaults sees the service as the chart's
/// ClusterIP again.
#[test]
fn unset_switches_the_exposure_back_on_a_cumulative_file() {
    let test = "unset_switches_the_exposure_back_on_a_cumulative_file";
    let ws = Workspace::new();
    let base = "\
# cumulative values: airflow-kit keeps this file
executor: CeleryExecutor   # keep Celery

apiServer:
  # one is enough on one node
  replicas: 1
dags:
  gitSync:
    enabled: true
";
    let cumulative = ws.path("values.yaml");
    std::fs::write(&cumulative, base).expect("write");
    let file = cumulative.display().to_string();
    let expose = strings(&[
        "--in-place",
        &file,
        "--set",
        "apiServer.service.type=NodePort",
        "--set-json",
        r#"apiServer.service.ports=[{"name":"api-server","port":"{{ .Values.ports.apiServer }}","nodePort":30080}]"#,
    ]);
    values_merge(&expose, ws.dir.path()).expect_success();
    let exposed = std::fs::read_to_string(&cumulative).expect("read");
    assert!(exposed.contains("    type: NodePort\n"), "{exposed}");
    let unset = strings(&["--unset", "apiServer.service.type", "--unset", "apiServer.service.ports"]);

    // stdout mode: the document without the two keys (and without the emptied `service`).
    let shown = values_merge(&[vec![file.clone()], unset.clone()].concat(), ws.dir.path());
    shown.expect_success();
    assert!(!shown.stdout.contains("service") && shown.stdout.contains("replicas: 1"), "{shown}");

    let back = values_merge(&[vec!["--in-place".to_string(), file.clone()], unset.clone()].concat(), ws.dir.path());
    back.expect_success().expect_stderr_contains("wrote");
    assert!(!back.stderr.contains("not set"), "{back}");
    assert_eq!(std::fs::read_to_string(&cumulative).expect("read"), base, "set, then unset, is the file it was");

    // The same lines written by hand, with comments of their own: they go, the rest stays.
    let by_hand = "\
# cumulative values: airflow-kit keeps this file
executor: CeleryExecutor   # keep Celery

apiServer:
  # one is enough on one node
  replicas: 1
  service:
    # the UI on the node's own port
    type: NodePort  # until the ingress exists
    ports:
      - name: api-server
        port: \"{{ .Values.ports.apiServer }}\"
        nodePort: 30080  # open in the firewall
    annotations:
      team: data
dags:
  gitSync:
    enabled: true
";
    std::fs::write(&cumulative, by_hand).expect("write");
    values_merge(&[vec!["--in-place".to_string(), file.clone()], unset.clone()].concat(), ws.dir.path())
        .expect_success();
    let after = std::fs::read_to_string(&cumulative).expect("read");
    let expected = by_hand.replace(
        "    # the UI on the node's own port\n    type: NodePort  # until the ingress exists\n    ports:\n      - name: api-server\n        port: \"{{ .Values.ports.apiServer }}\"\n        nodePort: 30080  # open in the firewall\n",
        "",
    );
    assert_eq!(after, expected);

    // What the chart sees: NodePort with the exposure, the chart's ClusterIP without it.
    let chart_values =
        std::fs::read_to_string(shared_dir().join("airflow-chart/1.20.0/values.yaml")).expect("real chart values");
    let chart = oracle_chart(ws.dir.path(), "airflow-defaults", Some(&chart_values));
    let exposed_file = ws.path("exposed.yaml");
    std::fs::write(&exposed_file, &exposed).expect("write");
    for (helm_name, helm) in helms(test) {
        let home = ws.path(&format!("home-{helm_name}"));
        let service = |path: &Path| {
            let text = rendered(&helm, &home, &chart, &["-f".to_string(), path.display().to_string()]);
            let values = airflow_kit_core::yaml::parse_document(&text, "helm").expect("parses").to_json();
            values["apiServer"]["service"].clone()
        };
        assert_eq!(service(&exposed_file)["type"], "NodePort", "{helm_name}");
        assert_eq!(service(&exposed_file)["ports"][0]["nodePort"], 30080, "{helm_name}");
        let service = service(&cumulative);
        assert_eq!(service["type"], "ClusterIP", "{helm_name}: the chart's default is back");
        assert_eq!(
            service["ports"],
            serde_json::json!([{"name": "api-server", "port": "{{ .Values.ports.apiServer }}"}])
        );
        assert_eq!(service["annotations"], serde_json::json!({"team": "data"}), "{helm_name}: the rest stays");
    }
}

/// How real Helm 3 treats a malformed `--set` form: refuses it with this error, or takes it
/// silently as if the values were this YAML (the setting, or part of it, dropped).
enum Helm3 {
    Refuses(&'static str),
    Drops(&'static str),
}

/// Defect 13: a malformed `--set` is never dropped silently. Each form is shown to real Helm
/// 3 first: where it refuses, values-merge refuses with its error; where it drops the setting
/// without a word (Helm 4 drops even an unclosed `[`), values-merge refuses in Helm's style.
/// Always exit 2 with a hint, nothing on stdout, the cumulative file untouched.
#[test]
fn malformed_set_forms_are_refused_never_dropped() {
    let test = "malformed_set_forms_are_refused_never_dropped";
    let ws = Workspace::new();
    let set_file = ws.set_file.display().to_string();
    let unclosed_file = format!("a.b[={set_file}");
    let cases: Vec<(&str, &str, Helm3, &str)> = vec![
        // An unclosed `[`: Helm 3 refuses, Helm 4 drops the setting.
        ("--set", "a.b[=1", Helm3::Refuses("error parsing index: EOF"), "error parsing index: EOF"),
        ("--set", "a[0", Helm3::Refuses("error parsing index: EOF"), "error parsing index: EOF"),
        ("--set", "x=1,a.b[0", Helm3::Refuses("error parsing index: EOF"), "error parsing index: EOF"),
        ("--set", "a[0][=1", Helm3::Refuses("error parsing index: EOF"), "error parsing index: EOF"),
        ("--set-string", "a.b[=1", Helm3::Refuses("error parsing index: EOF"), "error parsing index: EOF"),
        ("--set-json", "a.b[=1", Helm3::Refuses("failed parsing --set-json data"), "error parsing index: EOF"),
        ("--set-literal", "a.b[=1", Helm3::Refuses("error parsing index: EOF"), "error parsing index: EOF"),
        ("--set-file", &unclosed_file, Helm3::Refuses("error parsing index: EOF"), "error parsing index: EOF"),
        // A `]` too many, a doubled `.`, no `=`: both Helms refuse, with these words.
        (
            "--set",
            "a[0]]=1",
            Helm3::Refuses("unexpected data at end of array index"),
            "unexpected data at end of array index",
        ),
        ("--set", "a..b=1", Helm3::Refuses("key map \"a\" has no value"), "key map \"a\" has no value"),
        ("--set", "a.b", Helm3::Refuses("key \"b\" has no value"), "key \"b\" has no value"),
        // Empty keys: both Helms drop the setting without a word.
        ("--set", ".b=1", Helm3::Drops("{}"), "empty key in \".b\""),
        ("--set", "=1", Helm3::Drops("{}"), "empty key before `=`"),
        ("--set", "a=1,=2", Helm3::Drops("a: 1"), "empty key before `=`"),
        ("--set", "[0]=1", Helm3::Drops("{}"), "empty key in \"[0]\""),
        ("--set", "a[0].=1", Helm3::Drops("a: [{}]"), "empty key in \"a[0].\""),
        // A path that ends before its value: dropped too.
        ("--set", "a.", Helm3::Drops("{}"), "key map \"a\" has no value"),
        ("--set", "a[0].", Helm3::Drops("a: []"), "key map \"a[0]\" has no value"),
        ("--set", "a[0]", Helm3::Drops("a: []"), "key \"a[0]\" has no value"),
        // A lone `\` at the end: Helm drops the backslash from the value.
        ("--set", "a=x\\", Helm3::Drops("a: x"), "the value of \"a\" ends with a lone `\\`"),
    ];
    let chart = oracle_chart(ws.dir.path(), "oracle", None);
    let cumulative = ws.path("values.yaml");
    let kept = "# kept as it is\nexecutor: CeleryExecutor  # Celery\n";
    std::fs::write(&cumulative, kept).expect("write");
    let helm3 = helms(test).into_iter().find(|(name, _)| *name == "helm3");
    for (index, (flag, form, helm3_verdict, ours)) in cases.iter().enumerate() {
        if let Some((_, helm)) = &helm3 {
            let home = ws.path("home-helm3");
            let (ok, stdout, stderr) = helm_template(helm, &home, &chart, &[flag.to_string(), form.to_string()]);
            match helm3_verdict {
                Helm3::Refuses(words) => {
                    assert!(!ok && stderr.contains(words), "helm 3 on {flag} {form:?}: {stdout}{stderr}")
                }
                Helm3::Drops(equivalent) => {
                    assert!(ok, "helm 3 refuses {flag} {form:?}: {stderr}");
                    let file = ws.path(&format!("equivalent{index}.yaml"));
                    std::fs::write(&file, equivalent).expect("write");
                    let same = rendered(helm, &home, &chart, &["-f".to_string(), file.display().to_string()]);
                    let body = |text: &str| {
                        text.lines()
                            .filter(|l| !l.starts_with("---") && !l.starts_with("# Source"))
                            .collect::<Vec<_>>()
                            .join("\n")
                    };
                    assert_eq!(body(&stdout), same, "helm 3 on {flag} {form:?} is not the silent drop we think");
                }
            }
        }
        for major in ["3", "4"] {
            let args = strings(&["--in-place", &cumulative.display().to_string(), "--helm-major", major, flag, form]);
            let run = values_merge(&args, ws.dir.path());
            run.expect_code(2)
                .expect_stderr_contains(&format!("failed parsing {flag} data: "))
                .expect_stderr_contains(ours)
                .expect_stderr_contains("hint: ");
            assert_eq!(run.stdout, "", "nothing on stdout\n{run}");
            assert_eq!(std::fs::read_to_string(&cumulative).expect("read"), kept, "{flag} {form:?} changed the file");
        }
    }
}
