//! values-merge: combine values files and `--set` flags exactly as Helm does, keep the
//! cumulative values file, show the chart's effective values, check them against the chart's
//! schema, and explain or diff the result.

pub mod cli;
pub mod inplace;
pub mod invoke;
pub mod merge;
pub mod report;
pub mod schema;
pub mod set;

use std::path::PathBuf;
use std::sync::Arc;

use airflow_kit_core::report::to_yaml;
use airflow_kit_core::yaml::{Input, Resolved, emit_document, parse_document, read_text_file};
use airflow_kit_core::{Error, Mapping, Node, NodeKind};

pub use merge::HelmMajor;
pub use set::SetKind;

/// Where the result goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Stdout,
    /// `-o FILE`: written atomically, mode 0600.
    File(PathBuf),
    /// `--in-place FILE`: FILE is the first layer and gets the result, edited line by line.
    InPlace(PathBuf),
}

/// What to print instead of the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Document,
    /// `--explain`: which input set each value.
    Explain,
    /// `--diff FILE`: what the result changes against FILE.
    Diff(PathBuf),
}

/// One run of values-merge, resolved from the flags.
#[derive(Debug, Clone)]
pub struct Config {
    /// Values files in order; `Input::Stdin` for `-`.
    pub inputs: Vec<Input>,
    /// `--set`-style flags in command-line order (applied grouped by kind, as Helm does).
    pub sets: Vec<(SetKind, String)>,
    /// `--unset`: paths removed after every input and `--set`.
    pub unset: Vec<Unset>,
    pub output: Output,
    pub defaults: Option<PathBuf>,
    pub schema: Option<PathBuf>,
    pub mode: Mode,
    /// Whose coalescing `--defaults` follows (Helm 3 and 4 differ on nested nulls).
    pub helm_major: HelmMajor,
}

/// One `--unset PATH`: the path as typed (for messages) and its keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unset {
    pub text: String,
    pub keys: Vec<String>,
}

impl Unset {
    /// Reads a path as `--unset` takes it (core's `values_path`: `\.` is a dot in a key).
    pub fn parse(text: &str) -> Result<Unset, Error> {
        let keys = airflow_kit_core::values_path::parse("--unset", text)?;
        Ok(Unset { text: text.to_string(), keys })
    }
}

/// What a run produced: text for stdout, warnings for stderr, a file it wrote.
#[derive(Debug, Default)]
pub struct Outcome {
    pub stdout: String,
    pub warnings: Vec<String>,
    pub wrote: Option<PathBuf>,
    /// For `--in-place`: false when the file already held exactly this.
    pub changed: bool,
    /// The file written when `wrote` is a symbolic link to it.
    pub through_link: Option<PathBuf>,
}

impl Config {
    /// The run the parsed flags ask for. With no FILE (and no `--in-place`), stdin is the input.
    pub fn from_args(args: &cli::Args) -> Result<Config, Error> {
        let mut inputs: Vec<Input> = args.files.iter().map(|arg| Input::from_arg(arg)).collect();
        if inputs.is_empty() && args.in_place.is_none() {
            inputs.push(Input::Stdin);
        }
        // Helm applies the --set family grouped by kind (see `apply_sets`), so each kind's own
        // order is all that matters.
        let kinds = [
            (SetKind::Typed, &args.set),
            (SetKind::String, &args.set_string),
            (SetKind::Json, &args.set_json),
            (SetKind::File, &args.set_file),
            (SetKind::Literal, &args.set_literal),
        ];
        let sets = kinds.iter().flat_map(|(kind, values)| values.iter().map(|value| (*kind, value.clone()))).collect();
        let unset = args.unset.iter().map(|text| Unset::parse(text)).collect::<Result<_, _>>()?;
        let output = match (&args.output, &args.in_place) {
            (Some(path), _) => Output::File(path.clone()),
            (None, Some(path)) => Output::InPlace(path.clone()),
            (None, None) => Output::Stdout,
        };
        let mode = match (args.explain, &args.diff) {
            (true, _) => Mode::Explain,
            (false, Some(path)) => Mode::Diff(path.clone()),
            (false, None) => Mode::Document,
        };
        Ok(Config {
            inputs,
            sets,
            unset,
            output,
            defaults: args.defaults.clone(),
            schema: args.schema.clone(),
            mode,
            helm_major: args.helm_major,
        })
    }

    /// Checks the flags make sense together, before anything is read or written.
    pub fn validate(&self) -> Result<(), Error> {
        let stdin_count = self.inputs.iter().filter(|input| **input == Input::Stdin).count();
        if stdin_count > 1 {
            return Err(
                Error::bad_input("`-` (stdin) is given more than once").with_hint("stdin can be read only once")
            );
        }
        if self.defaults.is_some() && matches!(self.output, Output::InPlace(_)) {
            return Err(Error::bad_input("`--defaults` cannot be combined with `--in-place`").with_hint(
                "the cumulative file keeps only your own values; use `--defaults` to look, `-o` to save a copy",
            ));
        }
        if self.mode != Mode::Document && self.output != Output::Stdout {
            return Err(Error::bad_input("`--explain` and `--diff` print a report and write no file")
                .with_hint("drop `-o`/`--in-place`, or run the report separately"));
        }
        Ok(())
    }
}

/// Runs values-merge. `read_stdin` is called at most once, only when `-` is an input; `note`
/// says something on stderr while the run goes on (whom it waits for).
pub fn run(
    config: &Config,
    read_stdin: &dyn Fn() -> Result<String, Error>,
    note: &dyn Fn(&str),
) -> Result<Outcome, Error> {
    config.validate()?;
    let mut outcome = Outcome::default();

    // Every input is read before the cumulative file is locked, so a slow pipe upstream never
    // holds another writer up. Each text goes as soon as it is parsed: only trees stay.
    let mut layers = Vec::with_capacity(config.inputs.len());
    for input in &config.inputs {
        let (text, name) = match input {
            Input::Stdin => (read_stdin()?, "<stdin>".to_string()),
            Input::Path(path) => (read_text_file(path)?, path.display().to_string()),
        };
        let root = parse_document(&text, &name)?;
        drop(text);
        warn_about_big_integers(&root, &mut Vec::new(), &mut outcome.warnings);
        layers.push(root);
    }

    // The cumulative file is the first layer; a missing one starts empty. It is read, merged
    // and written under its lock, so two writers at once both land (one waits).
    let mut _lock = None;
    let in_place = match &config.output {
        Output::InPlace(path) => {
            let target = follow_link(path)?;
            // A cumulative file another user owns or can change is not merged into: what it
            // holds would be deployed.
            airflow_kit_core::fs::check_trusted(&target, false)?;
            let lock_path = airflow_kit_core::lock::beside(&target);
            _lock = Some(airflow_kit_core::lock::exclusive_or_wait(&lock_path, true, &mut |holder| {
                note(&format!("waiting for {holder}, which is writing `{}`", path.display()))
            })?);
            let existed = target.exists();
            let text = if existed { read_text_file(&target)? } else { String::new() };
            let root = parse_document(&text, &path.display().to_string())?;
            Some(InPlace { path: path.clone(), target, existed, text, root })
        }
        _ => None,
    };
    let mut layers = layers.into_iter().map(into_mapping);
    let mut merged = match (&in_place, layers.next()) {
        // The file's own tree stays whole, for the edit to be planned against; the merge copies
        // of it only what the first layer leaves standing.
        (Some(in_place), Some(first)) => {
            merge::merged_onto(in_place.root.as_mapping().unwrap_or(&Mapping::default()), first)
        }
        (Some(in_place), None) => mapping_of(&in_place.root),
        (None, first) => first.unwrap_or_default(),
    };
    for layer in layers {
        merge::merge_maps(&mut merged, layer);
    }
    apply_sets(&config.sets, &mut merged, &mut outcome.warnings)?;
    for unset in &config.unset {
        if !unset_path(&mut merged, &unset.keys) {
            outcome.warnings.push(format!("--unset {}: not set", unset.text));
        }
    }
    let merged = Node::new(NodeKind::Mapping(merged));

    let result = match &config.defaults {
        Some(path) => {
            let mut effective = into_mapping(merged);
            let defaults = parse_document(&read_text_file(path)?, &path.display().to_string())?;
            let defaults = into_mapping(defaults);
            outcome.warnings.extend(merge::coalesce(&mut effective, &defaults, config.helm_major));
            Node::new(NodeKind::Mapping(effective))
        }
        None => merged,
    };

    if let Some(schema_path) = &config.schema {
        check_schema(schema_path, &result, config.defaults.is_some(), config.helm_major)?;
    }

    match &config.mode {
        Mode::Explain => outcome.stdout = to_yaml(&report::explain(&result))?,
        Mode::Diff(path) => {
            let before = parse_document(&read_text_file(path)?, &path.display().to_string())?;
            let diff = report::diff(&before, &result);
            outcome.stdout = to_yaml(&diff)?;
            outcome.warnings.push(format!(
                "{} added, {} changed, {} removed against `{}`",
                diff.added.len(),
                diff.changed.len(),
                diff.removed.len(),
                path.display()
            ));
        }
        Mode::Document => {
            readable_back(&result)?;
            write_result(config, in_place, &result, &mut outcome)?;
        }
    }
    Ok(outcome)
}

/// The cumulative file of `--in-place`: the path as given, the file it names (through any
/// symbolic link), and what it held.
struct InPlace {
    path: PathBuf,
    target: PathBuf,
    existed: bool,
    text: String,
    root: Node,
}

/// The file a path names: itself, or for a symbolic link the file the link points to, so the
/// write replaces that file and the link stays a link (replacing the link with a file would
/// quietly fork the values: the next run through the link's target would not see them). A
/// link to nothing is refused: which file was meant cannot be told.
fn follow_link(path: &std::path::Path) -> Result<PathBuf, Error> {
    match std::fs::symlink_metadata(path) {
        Ok(metadata) if metadata.file_type().is_symlink() => std::fs::canonicalize(path).map_err(|_| {
            let points_to = std::fs::read_link(path).map(|to| to.display().to_string()).unwrap_or_default();
            Error::bad_input(format!("`{}` is a symbolic link to `{points_to}`, which does not exist", path.display()))
                .with_hint(
                    "create the file the link points to (an empty file will do), or name the cumulative file itself",
                )
        }),
        _ => Ok(path.to_path_buf()),
    }
}

/// A document we write must be one we can read back: no deeper than the reader allows.
fn readable_back(result: &Node) -> Result<(), Error> {
    let depth = airflow_kit_core::yaml::depth_of(result);
    if depth > airflow_kit_core::yaml::MAX_DEPTH {
        return Err(Error::bad_input(format!(
            "the result nests {depth} levels deep, more than the {} any run can read back",
            airflow_kit_core::yaml::MAX_DEPTH
        ))
        .with_hint("nothing was written; set the deep value whole instead of through so many levels"));
    }
    Ok(())
}

fn write_result(config: &Config, in_place: Option<InPlace>, result: &Node, outcome: &mut Outcome) -> Result<(), Error> {
    match &config.output {
        Output::Stdout => outcome.stdout = emit_document(result),
        Output::File(path) => {
            let target = follow_link(path)?;
            airflow_kit_core::fs::write_atomic(&target, emit_document(result).as_bytes(), 0o600)?;
            outcome.wrote = Some(path.clone());
            outcome.changed = true;
        }
        Output::InPlace(_) => {
            let Some(in_place) = in_place else { return Ok(()) };
            let InPlace { path, target, existed, text: original, root } = in_place;
            let written = inplace::write_back(existed.then_some((original.as_str(), root)), result);
            if !written.line_by_line && !original.trim().is_empty() {
                // Said out loud: the values are exact, but the person who wrote the comments
                // should know they are gone.
                outcome.warnings.push(format!(
                    "warning: `{}` could not be edited line by line, so it was written whole: the same values, but its comments and layout are not kept",
                    path.display()
                ));
            }
            outcome.changed = written.text != original || !existed;
            if outcome.changed {
                airflow_kit_core::fs::write_atomic(&target, written.text.as_bytes(), 0o600)?;
            }
            if target != path {
                outcome.through_link = Some(target);
            }
            outcome.wrote = Some(path);
        }
    }
    Ok(())
}

/// Applies the `--set` family grouped by kind in Helm's order: json, set, string, file,
/// literal (pkg/cli/values/options.go).
fn apply_sets(sets: &[(SetKind, String)], merged: &mut Mapping, warnings: &mut Vec<String>) -> Result<(), Error> {
    let read_file = |path: &str| read_text_file(std::path::Path::new(path));
    for kind in [SetKind::Json, SetKind::Typed, SetKind::String, SetKind::File, SetKind::Literal] {
        for (_, argument) in sets.iter().filter(|(k, _)| *k == kind) {
            // The label names the flag and its first key, never the value (it may be secret).
            let first_key = argument.split('=').next().unwrap_or_default();
            let source: Arc<str> = Arc::from(format!("{} {first_key}", kind.flag()));
            set::apply(kind, argument, merged, &source, &read_file).map_err(|error| {
                let message = format!("failed parsing {} data: {}", kind.flag(), error.message);
                Error::bad_input(message).with_hint(error.hint.unwrap_or_else(|| set_hint(kind)))
            })?;
        }
    }
    for (key, entry) in &merged.entries {
        warn_about_unrepresentable_integers(&entry.value, &mut vec![key.as_str()], warnings);
    }
    Ok(())
}

fn set_hint(kind: SetKind) -> String {
    match kind {
        SetKind::Json => "the value must be JSON: `--set-json 'key={\"a\":1}'`".to_string(),
        SetKind::Literal => "the form is `--set-literal key=value` (one key, the value verbatim)".to_string(),
        _ => format!(
            "the form is `{} a.b=value,list={{x,y}},l[0]=x`; escape `.`, `,`, `=` inside keys or values with `\\`",
            kind.flag()
        ),
    }
}

/// Validates against the schema as Helm would: over the chart's defaults. Without
/// `--defaults`, the chart's values.yaml beside the schema stands in, when it is there.
fn check_schema(
    schema_path: &std::path::Path,
    result: &Node,
    has_defaults: bool,
    helm: HelmMajor,
) -> Result<(), Error> {
    let schema = schema::Schema::load(schema_path)?;
    let mut target = result.clone();
    let beside = schema_path.with_file_name("values.yaml");
    if !has_defaults && beside.exists() {
        let defaults = parse_document(&read_text_file(&beside)?, &beside.display().to_string())?;
        if let (Some(mapping), Some(defaults)) = (target.as_mapping_mut(), defaults.as_mapping()) {
            merge::coalesce(mapping, defaults, helm);
        }
    }
    let violations = schema.check(&target);
    if violations.is_empty() {
        return Ok(());
    }
    Err(schema::violations_error(&violations, "the values have"))
}

/// Removes the value at `keys`; a mapping the removal leaves empty goes too, so the result
/// reads as if the key had never been set. False when nothing is set at `keys`.
fn unset_path(mapping: &mut Mapping, keys: &[String]) -> bool {
    let Some((first, rest)) = keys.split_first() else { return false };
    if rest.is_empty() {
        return mapping.remove(first).is_some();
    }
    let Some(inner) = mapping.get_mut(first).and_then(Node::as_mapping_mut) else { return false };
    if !unset_path(inner, rest) {
        return false;
    }
    if inner.is_empty() {
        mapping.remove(first);
    }
    true
}

fn mapping_of(node: &Node) -> Mapping {
    node.as_mapping().cloned().unwrap_or_default()
}

/// The mapping of a document, taken rather than copied.
fn into_mapping(node: Node) -> Mapping {
    match node.kind {
        NodeKind::Mapping(mapping) => mapping,
        _ => Mapping::default(),
    }
}

/// Helm issue 12195: numbers of 1,000,000 and more from a values file print as `1e+06` where
/// a template uses them directly.
fn warn_about_big_integers<'a>(node: &'a Node, path: &mut Vec<&'a str>, warnings: &mut Vec<String>) {
    match &node.kind {
        NodeKind::Mapping(mapping) => {
            for (key, entry) in &mapping.entries {
                path.push(key);
                warn_about_big_integers(&entry.value, path, warnings);
                path.pop();
            }
        }
        NodeKind::Sequence(items) => items.iter().for_each(|item| warn_about_big_integers(item, path, warnings)),
        NodeKind::Scalar(_) => {
            let big = match node.resolved() {
                Some(Resolved::Int(value)) => value.unsigned_abs() >= 1_000_000,
                Some(Resolved::Uint(_)) => true,
                _ => false,
            };
            if big {
                // The path only, never the value: a numeric password is still a password.
                warnings.push(format!(
                    "warning: `{}` is a number of 1000000 or more: Helm prints such numbers from values files as `1e+06` where a template uses them directly; quote it if it is meant as text",
                    report::dotted(path)
                ));
            }
        }
    }
}

/// A `--set` integer beyond 2^53 is exact to Helm, but a values file cannot carry it exactly:
/// Helm reads numbers from files as float64.
fn warn_about_unrepresentable_integers<'a>(node: &'a Node, path: &mut Vec<&'a str>, warnings: &mut Vec<String>) {
    match &node.kind {
        NodeKind::Mapping(mapping) => {
            for (key, entry) in &mapping.entries {
                path.push(key);
                warn_about_unrepresentable_integers(&entry.value, path, warnings);
                path.pop();
            }
        }
        // Lists are values of their own (Helm replaces them whole), as in `--diff`.
        NodeKind::Sequence(_) => {}
        NodeKind::Scalar(_) => {
            if let Some(Resolved::Int(value)) = node.resolved()
                && value.unsigned_abs() > (1u64 << 53)
                && node.span.is_none()
            {
                warnings.push(format!(
                    "warning: `{}` is an integer beyond 2^53, which a values file cannot keep exactly (Helm reads file numbers as float64); pass it with `--set-string` if it is an identifier",
                    report::dotted(path)
                ));
            }
        }
    }
}
