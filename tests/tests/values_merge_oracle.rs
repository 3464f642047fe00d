//! Helm judges values-merge: for every case, `helm template -f <our output>` must print the
//! same as `helm template -f f1 -f f2 ... --set ...` on the raw inputs, with Helm 3 and Helm 4.
//! The vectors of helm-values.md, then 600 generated cases (nested maps, lists, type changes,
//! nulls, YAML 1.1 scalars quoted and not, keys with dots and slashes, every --set form).
//! Cases are batched under `case_N:` keys so one helm run judges a hundred of them.

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
    values_merge(&in_place_args, ws.dir.path()).expect_success();

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
            args.extend(["--helm".to_string(), helm_name.trim_start_matches("helm").to_string()]);
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
