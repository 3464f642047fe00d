//! The values document: a YAML tree that remembers where each node came from and how each
//! scalar was written, so a document passed through a tool means to Helm exactly what it meant
//! before. Parsing is saphyr-parser's (events with spans); resolution follows Helm's reader
//! (go-yaml v2, YAML 1.1); emitting is ours (see ARCHITECTURE.md for why not serde_yaml).

mod emit;
mod leaves;
mod parse;
mod resolve;

use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use crate::error::Error;

pub use emit::{emit_document, emit_entry, plain_is_safe};
pub use leaves::{Leaf, dotted, leaves};
pub use parse::{MAX_DEPTH, depth_of, parse_document};
pub use resolve::{Resolved, resolve_plain};

/// A position in a source: line and column count from 1; `index` is the character offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
    pub index: usize,
}

/// Where a node sits in its source text (end exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: Pos,
    pub end: Pos,
}

/// How a scalar was written. `Auto` is for values a tool makes: the emitter picks the plainest
/// style that keeps the value a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarStyle {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
    Auto,
}

/// A scalar's text as written (after YAML unescaping/folding), its style and explicit tag.
#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    pub text: String,
    pub style: ScalarStyle,
    pub tag: Option<String>,
}

/// A node of the tree. `source` names the input it came from (for `--explain`); `span` is
/// its place in that input, None for nodes a tool made.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub span: Option<Span>,
    pub source: Option<std::sync::Arc<str>>,
    /// True for a flow collection (`{a: 1}`, `[1, 2]`) in the source text.
    pub flow: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Scalar(Scalar),
    Sequence(Vec<Node>),
    Mapping(Mapping),
}

/// A mapping keyed by the key as Helm sees it (`on:` is the key "true" to Helm), keeping the
/// order of the source and each key's own text and style.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Mapping {
    pub entries: IndexMap<String, Entry>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: Scalar,
    pub key_span: Option<Span>,
    pub value: Node,
}

impl Mapping {
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries.get(key).map(|entry| &entry.value)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        self.entries.get_mut(key).map(|entry| &mut entry.value)
    }

    /// Sets `key` to `value`, keeping the key's place (and written form) when it exists.
    pub fn insert(&mut self, key: &str, value: Node) {
        // One hash and one probe: reports insert tens of thousands of keys.
        match self.entries.entry(key.to_string()) {
            indexmap::map::Entry::Occupied(mut occupied) => occupied.get_mut().value = value,
            indexmap::map::Entry::Vacant(vacant) => {
                let key_scalar = Scalar { text: key.to_string(), style: ScalarStyle::Auto, tag: None };
                vacant.insert(Entry { key: key_scalar, key_span: None, value });
            }
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<Node> {
        self.entries.shift_remove(key).map(|entry| entry.value)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Node)> {
        self.entries.iter().map(|(key, entry)| (key.as_str(), &entry.value))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Node {
    pub fn new(kind: NodeKind) -> Node {
        Node { kind, span: None, source: None, flow: false }
    }

    /// A string value; the emitter quotes it whenever Helm would otherwise read it as
    /// something else (`yes`, `1.0`, `null`, ...).
    pub fn string(text: impl Into<String>) -> Node {
        Node::new(NodeKind::Scalar(Scalar { text: text.into(), style: ScalarStyle::Auto, tag: None }))
    }

    pub fn int(value: i64) -> Node {
        Node::plain(value.to_string())
    }

    pub fn bool(value: bool) -> Node {
        Node::plain(if value { "true" } else { "false" })
    }

    pub fn null() -> Node {
        Node::plain("null")
    }

    /// A plain scalar whose text Helm resolves itself (numbers, booleans, null).
    pub fn plain(text: impl Into<String>) -> Node {
        Node::new(NodeKind::Scalar(Scalar { text: text.into(), style: ScalarStyle::Plain, tag: None }))
    }

    pub fn mapping() -> Node {
        Node::new(NodeKind::Mapping(Mapping::default()))
    }

    pub fn sequence(items: Vec<Node>) -> Node {
        Node::new(NodeKind::Sequence(items))
    }

    pub fn as_mapping(&self) -> Option<&Mapping> {
        match &self.kind {
            NodeKind::Mapping(mapping) => Some(mapping),
            _ => None,
        }
    }

    pub fn as_mapping_mut(&mut self) -> Option<&mut Mapping> {
        match &mut self.kind {
            NodeKind::Mapping(mapping) => Some(mapping),
            _ => None,
        }
    }

    pub fn as_sequence(&self) -> Option<&Vec<Node>> {
        match &self.kind {
            NodeKind::Sequence(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.kind {
            NodeKind::Scalar(scalar) => Some(scalar),
            _ => None,
        }
    }

    /// What Helm reads this scalar as (None for collections).
    pub fn resolved(&self) -> Option<Resolved> {
        self.as_scalar().map(resolve::resolve_scalar)
    }

    /// The value as a string when Helm reads it as one (`"yes"` quoted, not `yes`).
    pub fn as_str(&self) -> Option<&str> {
        let scalar = self.as_scalar()?;
        match resolve::resolve_scalar(scalar) {
            Resolved::Str => Some(&scalar.text),
            _ => None,
        }
    }

    /// The value as a boolean when Helm reads it as one.
    pub fn as_bool(&self) -> Option<bool> {
        match self.resolved()? {
            Resolved::Bool(value) => Some(value),
            _ => None,
        }
    }

    /// True when Helm reads this node as null (`null`, `~`, empty).
    pub fn is_null(&self) -> bool {
        matches!(self.resolved(), Some(Resolved::Null))
    }

    /// The node at a dotted path of mapping keys (`["dags", "gitSync", "repo"]`).
    pub fn get_path(&self, path: &[&str]) -> Option<&Node> {
        let mut node = self;
        for key in path {
            node = node.as_mapping()?.get(key)?;
        }
        Some(node)
    }

    /// Sets the node at a path of mapping keys, creating mappings on the way. Fails (with the
    /// path so far) when a non-mapping value is in the way: overwriting it silently would lose
    /// a user's setting.
    pub fn set_path(&mut self, path: &[&str], value: Node) -> Result<(), Error> {
        let Some((last, parents)) = path.split_last() else {
            *self = value;
            return Ok(());
        };
        let mut node = self;
        for (depth, key) in parents.iter().enumerate() {
            let mapping = node.as_mapping_mut().ok_or_else(|| not_a_mapping(&path[..depth]))?;
            if mapping.get(key).is_none_or(Node::is_null) {
                mapping.insert(key, Node::mapping());
            }
            node = mapping.get_mut(key).ok_or_else(|| not_a_mapping(&path[..=depth]))?;
        }
        let mapping = node.as_mapping_mut().ok_or_else(|| not_a_mapping(parents))?;
        mapping.insert(last, value);
        Ok(())
    }

    /// Removes the node at a path; returns it when it was there.
    pub fn remove_path(&mut self, path: &[&str]) -> Option<Node> {
        let (last, parents) = path.split_last()?;
        let mut node = self;
        for key in parents {
            node = node.as_mapping_mut()?.get_mut(key)?;
        }
        node.as_mapping_mut()?.remove(last)
    }

    /// The value as JSON, resolved the way Helm resolves it (for schema checks and reports).
    pub fn to_json(&self) -> serde_json::Value {
        resolve::to_json(self)
    }

    /// True when Helm would read both nodes as the same value: what `to_json` of each would
    /// compare, walked side by side, so a large document is not copied into JSON twice.
    pub fn same_meaning(&self, other: &Node) -> bool {
        match (&self.kind, &other.kind) {
            (NodeKind::Scalar(a), NodeKind::Scalar(b)) => {
                match (resolve::resolve_scalar(a), resolve::resolve_scalar(b)) {
                    // The common case, without copying either string.
                    (Resolved::Str, Resolved::Str) => a.text == b.text,
                    _ => resolve::scalar_json(a) == resolve::scalar_json(b),
                }
            }
            (NodeKind::Sequence(a), NodeKind::Sequence(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(a, b)| a.same_meaning(b))
            }
            // As JSON objects compare: the same keys with the same values, in any order.
            (NodeKind::Mapping(a), NodeKind::Mapping(b)) => {
                a.len() == b.len()
                    && a.entries
                        .iter()
                        .all(|(key, entry)| b.get(key).is_some_and(|value| entry.value.same_meaning(value)))
            }
            _ => false,
        }
    }

    /// Gives every node of this tree the source name (used for `--explain`).
    pub fn set_source(&mut self, source: &std::sync::Arc<str>) {
        self.source = Some(source.clone());
        match &mut self.kind {
            NodeKind::Scalar(_) => {}
            NodeKind::Sequence(items) => items.iter_mut().for_each(|item| item.set_source(source)),
            NodeKind::Mapping(mapping) => mapping.entries.values_mut().for_each(|entry| entry.value.set_source(source)),
        }
    }
}

fn not_a_mapping(path: &[&str]) -> Error {
    let shown = if path.is_empty() { "the document".to_string() } else { format!("`{}`", path.join(".")) };
    Error::bad_input(format!("{shown} is not a mapping, so keys cannot be set under it"))
        .with_hint("fix or remove that value in the input document")
}

/// Where a document is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Stdin,
    Path(PathBuf),
}

impl Input {
    /// `-` means stdin, as everywhere in our tools.
    pub fn from_arg(arg: &str) -> Input {
        if arg == "-" { Input::Stdin } else { Input::Path(PathBuf::from(arg)) }
    }

    pub fn name(&self) -> String {
        match self {
            Input::Stdin => "<stdin>".to_string(),
            Input::Path(path) => path.display().to_string(),
        }
    }
}

/// A values document: always a mapping at the top (an empty input is an empty mapping).
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub root: Node,
    pub name: String,
    pub text: String,
}

impl Document {
    /// Reads and parses a document; a terminal on stdin is refused instead of waited on.
    pub fn read(input: &Input) -> Result<Document, Error> {
        let text = match input {
            Input::Stdin => crate::cli::read_stdin("a values document (YAML)")?,
            Input::Path(path) => read_text_file(path)?,
        };
        Document::parse(&text, &input.name())
    }

    pub fn parse(text: &str, name: &str) -> Result<Document, Error> {
        let root = parse_document(text, name)?;
        Ok(Document { root, name: name.to_string(), text: text.to_string() })
    }

    /// The document as YAML text (always ends with a newline; `{}` when empty).
    pub fn to_yaml(&self) -> String {
        emit_document(&self.root)
    }
}

/// Reads a text file with our error wording: missing, a directory, unreadable, not UTF-8.
pub fn read_text_file(path: &Path) -> Result<String, Error> {
    let shown = path.display();
    if path.is_dir() {
        return Err(Error::bad_input(format!("cannot read `{shown}`: it is a directory"))
            .with_hint("name a values file (YAML), not a directory"));
    }
    let bytes = std::fs::read(path).map_err(|error| {
        let hint = match error.kind() {
            std::io::ErrorKind::NotFound => "check the path; relative paths start from the current directory",
            std::io::ErrorKind::PermissionDenied => "check the file's permissions",
            _ => "check that the file is readable",
        };
        Error::bad_input(format!("cannot read `{shown}`: {}", crate::fs::plain_io_error(&error))).with_hint(hint)
    })?;
    String::from_utf8(bytes).map_err(|error| {
        let offset = error.utf8_error().valid_up_to();
        Error::bad_input(format!("cannot read `{shown}`: not UTF-8 text (invalid byte at offset {offset})"))
            .with_hint("values files are YAML text; check that this is the right file")
    })
}

/// A tree from JSON, for reports built with `serde_json::json!`: strings are quoted whenever
/// a YAML reader could take them for anything else.
pub fn from_json(value: &serde_json::Value) -> Node {
    use serde_json::Value;
    match value {
        Value::Null => Node::null(),
        Value::Bool(value) => Node::bool(*value),
        Value::Number(number) => Node::plain(number.to_string()),
        Value::String(text) => Node::string(text.clone()),
        Value::Array(items) => Node::sequence(items.iter().map(from_json).collect()),
        Value::Object(object) => {
            let mut mapping = Mapping::default();
            for (key, value) in object {
                mapping.insert(key, from_json(value));
            }
            Node::new(NodeKind::Mapping(mapping))
        }
    }
}

/// A report or document as YAML text, from JSON (see [`from_json`]).
pub fn json_to_yaml(value: &serde_json::Value) -> String {
    emit_document(&from_json(value))
}
