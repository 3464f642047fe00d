//! `--set` and its siblings, parsed exactly as Helm's `pkg/strvals` parses them, straight into
//! the values tree: `a.b=c`, `a=b,c=d`, `l={x,y}`, `l[0]=x`, `a[0].b=c`, backslash escapes,
//! typed values (`true`, `null`, integers not starting with 0), the same error wording.
//!
//! One difference, on purpose: Helm drops some malformed settings without a word (Helm 4 more
//! than Helm 3). A setting the user typed is never dropped here: an unclosed `[` is refused
//! with Helm 3's error whatever the Helm major, and the forms both Helm majors drop silently
//! (an empty key, a path ending in `.` or `]` with no value, a value ending in a lone `\`) are
//! refused in Helm's style, each with a hint.

use std::sync::Arc;

use airflow_kit_core::{Error, Mapping, Node, NodeKind};

/// Which flag a value came from; each reads its values differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetKind {
    /// `--set`: typed values.
    Typed,
    /// `--set-string`: always strings.
    String,
    /// `--set-json`: JSON values.
    Json,
    /// `--set-file`: the value is a path; the file's content becomes the string.
    File,
    /// `--set-literal`: one key, the rest of the argument verbatim.
    Literal,
}

impl SetKind {
    pub fn flag(self) -> &'static str {
        match self {
            SetKind::Typed => "--set",
            SetKind::String => "--set-string",
            SetKind::Json => "--set-json",
            SetKind::File => "--set-file",
            SetKind::Literal => "--set-literal",
        }
    }
}

/// Helm's limits (strvals.MaxIndex, MaxNestedNameLevel).
const MAX_INDEX: i64 = 65536;
const MAX_NESTED_NAME_LEVEL: usize = 30;

/// What a document may nest, counting the top mapping as the first level: core's reader's
/// limit, so that whatever `--set` builds can be read back.
const MAX_DEPTH: usize = airflow_kit_core::yaml::MAX_DEPTH;

/// Applies one `--set`-style argument to `data`, as Helm's ParseInto (and siblings) do.
/// `read_file` turns a `--set-file` path into its content. Errors carry Helm's wording.
pub fn apply(
    kind: SetKind,
    argument: &str,
    data: &mut Mapping,
    source: &Arc<str>,
    read_file: &dyn Fn(&str) -> Result<String, Error>,
) -> Result<(), Error> {
    let mut parser = Parser {
        chars: argument.chars().collect(),
        pos: 0,
        kind,
        source: source.clone(),
        read_file,
        setting_start: 0,
        dropped: None,
        lone_backslash: None,
        depth: 1,
    };
    // A setting of a secret followed by one that fails is most often a secret with a `,` in
    // it: what Helm's error would quote as a key is then the rest of the secret.
    let mut secret_before: Option<String> = None;
    loop {
        parser.setting_start = parser.pos;
        parser.depth = 1;
        match parser.key(data, 0, None) {
            Ok(()) => {
                let key = parser.setting_key();
                if secret_before.is_none() && names_a_secret(&key) {
                    secret_before = Some(key);
                }
            }
            Err(Stop::End) => break,
            Err(Stop::Failed(error)) => return Err(after_secret(error, secret_before.as_deref())),
        }
    }
    // Helm would have taken these without an error and lost them; checked after the whole
    // argument, so where Helm refuses it anyway its own error is the one shown.
    if let Some(key) = parser.dropped {
        let what = if key.is_empty() { "empty key before `=`".to_string() } else { format!("empty key in {key:?}") };
        let error = Error::bad_input(format!("{what}: Helm would drop this setting without a word")).with_hint(
            "name every key, as in `a.b=1` or `list[0]=x`; a leading, trailing or doubled `.`, or a `=` or `[` with nothing before it, leaves a key empty",
        );
        return Err(after_secret(error, secret_before.as_deref()));
    }
    if let Some(key) = parser.lone_backslash {
        return Err(Error::bad_input(format!(
            "the value of {key:?} ends with a lone `\\`: Helm would drop it without a word"
        ))
        .with_hint("a `\\` escapes the character after it; write `\\\\` for a backslash itself"));
    }
    Ok(())
}

/// True when a setting's key (`redis.password`, `extraSecrets.x.data`) is a secret's path.
fn names_a_secret(key: &str) -> bool {
    let path: Vec<&str> =
        key.split(['.', '[', ']']).filter(|segment| !segment.is_empty() && !segment.starts_with('=')).collect();
    airflow_kit_core::secrets::is_secret_path(&path)
}

/// An error in a setting that follows a secret's, without the text it would quote.
fn after_secret(error: Error, secret: Option<&str>) -> Error {
    let Some(secret) = secret else { return error };
    Error::bad_input(format!(
        "cannot read what follows the secret `{secret}` in this argument (not shown: it may be the rest of the secret)"
    ))
    .with_hint("a `,` ends a setting: write a comma inside a value as `\\,`, or pass the value with `--set-literal` or `--set-file`")
}

/// Why parsing stopped: the input ran out (Helm's io.EOF, not an error) or it failed.
enum Stop {
    End,
    Failed(Error),
}

fn fail(message: impl Into<String>) -> Stop {
    Stop::Failed(Error::bad_input(message.into()))
}

struct Parser<'a> {
    chars: Vec<char>,
    pos: usize,
    kind: SetKind,
    source: Arc<str>,
    read_file: &'a dyn Fn(&str) -> Result<String, Error>,
    /// Where the setting being read starts (after the comma before it).
    setting_start: usize,
    /// The key text of the first setting Helm would drop for its empty key.
    dropped: Option<String>,
    /// The key text of a setting whose value ends with a lone `\`.
    lone_backslash: Option<String>,
    /// How many collections deep the value being set sits (the top mapping is 1).
    depth: usize,
}

impl Parser<'_> {
    fn read(&mut self) -> Option<char> {
        let c = self.chars.get(self.pos).copied();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    fn unread(&mut self) {
        self.pos -= 1;
    }

    /// Helm's runesUntil: reads up to a stop character, honouring `\` escapes (except for
    /// `--set-literal`). Returns the text, the stop character, or None at the end.
    fn until(&mut self, stop: &[char]) -> (String, Option<char>) {
        let mut text = String::new();
        loop {
            let Some(c) = self.read() else { return (text, None) };
            if stop.contains(&c) {
                return (text, Some(c));
            }
            if c == '\\' && self.kind != SetKind::Literal {
                match self.read() {
                    Some(next) => text.push(next),
                    None => {
                        self.lone_backslash = Some(self.setting_key());
                        return (text, None);
                    }
                }
            } else {
                text.push(c);
            }
        }
    }

    /// The key of the setting being read, as typed: up to its first unescaped `=`.
    fn setting_key(&self) -> String {
        let mut key = String::new();
        let mut escaped = false;
        for &c in self.chars.get(self.setting_start..).unwrap_or_default() {
            if c == '=' && !escaped {
                break;
            }
            escaped = c == '\\' && !escaped && self.kind != SetKind::Literal;
            key.push(c);
        }
        key
    }

    /// Helm's set, which silently sets nothing for an empty key; here that is remembered and
    /// refused once the argument is read.
    fn set(&mut self, data: &mut Mapping, key: &str, value: Node) {
        if key.is_empty() {
            if self.dropped.is_none() {
                self.dropped = Some(self.setting_key());
            }
            return;
        }
        data.insert(key, value);
    }

    fn node(&self, mut node: Node) -> Node {
        node.set_source(&self.source);
        node
    }

    /// One level deeper into the path (a `.` or a `[`). A path deeper than a values file may
    /// be is refused here, before the parser recurses into it: 10,000 `[0]` overflowed the
    /// stack, and even 300 wrote a cumulative file that every later run refused to read.
    fn deeper(&mut self) -> Result<(), Stop> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(too_deep());
        }
        Ok(())
    }

    /// A value set where the path has led: together they must stay readable.
    fn fits(&self, value: Node) -> Result<Node, Stop> {
        if self.depth + airflow_kit_core::yaml::depth_of(&value) > MAX_DEPTH {
            return Err(too_deep());
        }
        Ok(value)
    }

    /// Reads one key and what follows it. `parent` names the map a `.` led into (`a` for
    /// `a.b=1`), None at the start of a setting.
    fn key(&mut self, data: &mut Mapping, nested_level: usize, parent: Option<&str>) -> Result<(), Stop> {
        let stop: &[char] = if self.kind == SetKind::Literal { &['=', '[', '.'] } else { &['=', '[', ',', '.'] };
        let (key, last) = self.until(stop);
        match last {
            None if key.is_empty() => match parent {
                None => Err(Stop::End),
                // `a.` at the end: Helm sets nothing and says nothing.
                Some(parent) => Err(fail_with_hint(
                    format!("key map {parent:?} has no value"),
                    "a path ends with a key and `=value`, as in `a.b=1`; a trailing `.` leaves it without one",
                )),
            },
            None => Err(fail(format!("key {key:?} has no value"))),
            Some('[') => {
                let index = self.key_index()?;
                let list = match data.get(&key) {
                    None => Vec::new(),
                    Some(node) => match &node.kind {
                        NodeKind::Sequence(items) => items.clone(),
                        _ => return Err(not_a(&key, "list")),
                    },
                };
                self.deeper()?;
                let (list, result) = self.list_item(list, index, nested_level, &format!("{key}[{index}]"));
                self.depth -= 1;
                let list = self.node(Node::sequence(list));
                self.set(data, &key, list);
                result
            }
            Some('=') => self.value_after_equals(data, &key),
            Some(',') => {
                let empty = self.node(Node::string(""));
                self.set(data, &key, empty);
                Err(fail(format!("key {key:?} has no value (cannot end with ,)")))
            }
            Some('.') => {
                let level = nested_level + 1;
                if level > MAX_NESTED_NAME_LEVEL {
                    return Err(fail(format!(
                        "value name nested level is greater than maximum supported nested level of {MAX_NESTED_NAME_LEVEL}"
                    )));
                }
                let mut inner = match data.get(&key) {
                    None => Mapping::default(),
                    Some(node) => match &node.kind {
                        NodeKind::Mapping(mapping) => mapping.clone(),
                        _ => return Err(not_a(&key, "map")),
                    },
                };
                self.deeper()?;
                let result = self.key(&mut inner, level, Some(&key));
                self.depth -= 1;
                if result.is_ok() && inner.is_empty() {
                    return Err(fail(format!("key map {key:?} has no value")));
                }
                if !inner.is_empty() {
                    let mut node = Node::new(NodeKind::Mapping(inner));
                    // The map keeps the source of where it was first written, if anywhere.
                    node.source = data.get(&key).and_then(|n| n.source.clone()).or(Some(self.source.clone()));
                    self.set(data, &key, node);
                }
                result
            }
            Some(other) => Err(fail(format!("parse error: unexpected token {other}"))),
        }
    }

    fn value_after_equals(&mut self, data: &mut Mapping, key: &str) -> Result<(), Stop> {
        match self.kind {
            SetKind::Literal => {
                let value: String = self.chars[self.pos..].iter().collect();
                self.pos = self.chars.len();
                let value = self.node(Node::string(value));
                self.set(data, key, value);
                Ok(())
            }
            SetKind::Json => {
                if self.empty_value() {
                    let null = self.node(Node::null());
                    self.set(data, key, null);
                    return Ok(());
                }
                let value = self.json_value()?;
                let value = self.fits(value)?;
                let value = self.node(value);
                self.set(data, key, value);
                self.empty_value();
                Ok(())
            }
            _ => match self.value_list() {
                ListResult::List(items) => {
                    let list = self.fits(Node::sequence(items))?;
                    let list = self.node(list);
                    self.set(data, key, list);
                    Ok(())
                }
                ListResult::End => {
                    let empty = self.node(Node::string(""));
                    self.set(data, key, empty);
                    Err(Stop::End)
                }
                ListResult::NotList => {
                    let (text, _) = self.until(&[',']);
                    let value = self.typed(&text)?;
                    let value = self.node(value);
                    self.set(data, key, value);
                    Ok(())
                }
                ListResult::Failed(stop) => Err(stop),
            },
        }
    }

    fn key_index(&mut self) -> Result<i64, Stop> {
        let (text, last) = self.until(&[']']);
        if last.is_none() {
            // Helm 3's error; Helm 4 drops the whole setting instead.
            return Err(fail_with_hint(
                "error parsing index: EOF",
                "a `[` opens a list index and needs its `]`, as in `a.b[0]=1`; a `[` inside a key is written `\\[`",
            ));
        }
        // Go's strconv.Atoi: optional sign, decimal digits.
        let digits = text.strip_prefix(['+', '-']).unwrap_or(&text);
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(fail(format!("error parsing index: strconv.Atoi: parsing {text:?}: invalid syntax")));
        }
        text.parse::<i64>()
            .map_err(|_| fail(format!("error parsing index: strconv.Atoi: parsing {text:?}: value out of range")))
    }

    /// Reads what follows `name[index]` (`name` as typed, for messages).
    fn list_item(
        &mut self,
        list: Vec<Node>,
        index: i64,
        nested_level: usize,
        name: &str,
    ) -> (Vec<Node>, Result<(), Stop>) {
        if index < 0 {
            return (list, Err(fail(format!("negative {index} index not allowed"))));
        }
        let (text, last) = self.until(&['[', '.', '=']);
        if !text.is_empty() {
            return (list, Err(fail(format!("unexpected data at end of array index: {text:?}"))));
        }
        match last {
            // `a[0]` at the end: Helm leaves the list as it was and says nothing.
            None => (
                list,
                Err(fail_with_hint(
                    format!("key {name:?} has no value"),
                    "a list item is set with `=value`, as in `a[0]=x`",
                )),
            ),
            Some('=') => {
                let value = if self.kind == SetKind::Literal {
                    let value: String = self.chars[self.pos..].iter().collect();
                    self.pos = self.chars.len();
                    Ok(Node::string(value))
                } else if self.kind == SetKind::Json {
                    if self.empty_value() {
                        Ok(Node::null())
                    } else {
                        let value = self.json_value();
                        if value.is_ok() {
                            self.empty_value();
                        }
                        value
                    }
                } else {
                    match self.value_list() {
                        ListResult::List(items) => Ok(Node::sequence(items)),
                        ListResult::End => Ok(Node::string("")),
                        ListResult::NotList => {
                            let (text, _) = self.until(&[',']);
                            self.typed(&text)
                        }
                        ListResult::Failed(stop) => Err(stop),
                    }
                };
                match value.and_then(|value| self.fits(value)) {
                    Ok(value) => {
                        let value = self.node(value);
                        set_index(list, index, value)
                    }
                    Err(stop) => (list, Err(stop)),
                }
            }
            Some('[') => {
                let next_index = match self.key_index() {
                    Ok(next) => next,
                    Err(stop) => return (list, Err(stop)),
                };
                let current = match list.get(index as usize) {
                    Some(node) if !node.is_null() => match &node.kind {
                        NodeKind::Sequence(items) => items.clone(),
                        _ => return (list, Err(fail("unable to parse key: interface conversion: not a list"))),
                    },
                    _ => Vec::new(),
                };
                if let Err(stop) = self.deeper() {
                    return (list, Err(stop));
                }
                let (inner, result) =
                    self.list_item(current, next_index, nested_level, &format!("{name}[{next_index}]"));
                self.depth -= 1;
                if let Err(stop) = result {
                    return (list, Err(stop));
                }
                let inner = self.node(Node::sequence(inner));
                set_index(list, index, inner)
            }
            Some('.') => {
                let mut inner = match list.get(index as usize).map(|node| &node.kind) {
                    Some(NodeKind::Mapping(mapping)) => mapping.clone(),
                    _ => Mapping::default(),
                };
                if let Err(stop) = self.deeper() {
                    return (list, Err(stop));
                }
                if let Err(stop) = self.key(&mut inner, nested_level, Some(name)) {
                    return (list, Err(stop));
                }
                self.depth -= 1;
                let inner = self.node(Node::new(NodeKind::Mapping(inner)));
                set_index(list, index, inner)
            }
            Some(other) => (list, Err(fail(format!("parse error: unexpected token {other}")))),
        }
    }

    /// Helm's valList: `{a,b}` is a list of typed values.
    fn value_list(&mut self) -> ListResult {
        match self.read() {
            None => return ListResult::End,
            Some('{') => {}
            Some(_) => {
                self.unread();
                return ListResult::NotList;
            }
        }
        let mut items = Vec::new();
        loop {
            let (text, last) = self.until(&[',', '}']);
            match last {
                None => return ListResult::Failed(fail("list must terminate with '}'")),
                Some('}') => {
                    if let Some(next) = self.read()
                        && next != ','
                    {
                        self.unread();
                    }
                    match self.typed(&text) {
                        Ok(value) => items.push(self.node(value)),
                        Err(stop) => return ListResult::Failed(stop),
                    }
                    return ListResult::List(items);
                }
                _ => match self.typed(&text) {
                    Ok(value) => items.push(self.node(value)),
                    Err(stop) => return ListResult::Failed(stop),
                },
            }
        }
    }

    /// Helm's emptyVal: skips blanks; true at a comma (consumed) or the end.
    fn empty_value(&mut self) -> bool {
        loop {
            match self.read() {
                None | Some(',') => return true,
                Some(c) if c.is_whitespace() => continue,
                Some(_) => {
                    self.unread();
                    return false;
                }
            }
        }
    }

    /// One JSON value from the current position (Go's json.Decoder.Decode).
    fn json_value(&mut self) -> Result<Node, Stop> {
        let rest: String = self.chars[self.pos..].iter().collect();
        let mut stream = serde_json::Deserializer::from_str(&rest).into_iter::<serde_json::Value>();
        match stream.next() {
            Some(Ok(value)) => {
                let consumed = rest[..stream.byte_offset()].chars().count();
                self.pos += consumed;
                Ok(json_node(&value))
            }
            Some(Err(error)) => Err(fail(format!("invalid JSON value: {error}"))),
            None => Err(fail("unexpected end of JSON input")),
        }
    }

    /// The value for `--set` (typed), `--set-string` and `--set-file` (read the file).
    fn typed(&self, text: &str) -> Result<Node, Stop> {
        match self.kind {
            SetKind::String | SetKind::Literal => Ok(Node::string(text)),
            SetKind::File => (self.read_file)(text).map(Node::string).map_err(Stop::Failed),
            SetKind::Typed | SetKind::Json => Ok(typed_value(text)),
        }
    }
}

enum ListResult {
    List(Vec<Node>),
    NotList,
    End,
    Failed(Stop),
}

/// Helm's typedVal: `true`/`false`/`null` in any case, `0`, and integers not starting with
/// `0` that fit int64; everything else (`1.5`, `0123`, `1e3`, `yes`) stays a string.
pub fn typed_value(text: &str) -> Node {
    let lower = text.to_ascii_lowercase();
    match lower.as_str() {
        "true" => return Node::bool(true),
        "false" => return Node::bool(false),
        "null" => return Node::null(),
        "0" => return Node::int(0),
        _ => {}
    }
    if !text.is_empty() && !text.starts_with('0') {
        let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
        if !digits.is_empty()
            && digits.chars().all(|c| c.is_ascii_digit())
            && let Ok(value) = text.parse::<i64>()
        {
            return Node::int(value);
        }
    }
    Node::string(text)
}

/// A JSON value as a node that Helm reads back as the same value.
fn json_node(value: &serde_json::Value) -> Node {
    airflow_kit_core::from_json(value)
}

fn too_deep() -> Stop {
    fail_with_hint(
        format!("this setting nests deeper than {MAX_DEPTH} levels of lists and maps"),
        &format!(
            "a values file may nest at most {MAX_DEPTH} levels, and no later run could read one deeper back; Helm limits an index to {MAX_INDEX} and a dotted name to {MAX_NESTED_NAME_LEVEL} levels, but not how many `[...]` follow each other"
        ),
    )
}

fn fail_with_hint(message: impl Into<String>, hint: &str) -> Stop {
    Stop::Failed(Error::bad_input(message.into()).with_hint(hint))
}

/// Helm's setIndex: pads with nulls; index limits as Helm's.
fn set_index(mut list: Vec<Node>, index: i64, value: Node) -> (Vec<Node>, Result<(), Stop>) {
    if index < 0 {
        return (list, Err(fail(format!("negative {index} index not allowed"))));
    }
    if index > MAX_INDEX {
        return (list, Err(fail(format!("index of {index} is greater than maximum supported index of {MAX_INDEX}"))));
    }
    let index = index as usize;
    while list.len() <= index {
        list.push(Node::null());
    }
    list[index] = value;
    (list, Ok(()))
}

fn not_a(key: &str, what: &str) -> Stop {
    Stop::Failed(
        Error::bad_input(format!(
            "unable to parse key: `{key}` is not a {what} in the values, so this path cannot go through it"
        ))
        .with_hint("Helm refuses the same; set the whole value instead, or fix the earlier input"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(kind: SetKind, argument: &str, expected: serde_json::Value) {
        let mut data = Mapping::default();
        let source: Arc<str> = Arc::from("--set");
        let read = |path: &str| Ok(format!("content of {path}"));
        apply(kind, argument, &mut data, &source, &read).unwrap_or_else(|e| panic!("{argument}: {e}"));
        assert_eq!(Node::new(NodeKind::Mapping(data)).to_json(), expected, "{argument}");
    }

    fn check_error(argument: &str, expected: &str) {
        let mut data = Mapping::default();
        let source: Arc<str> = Arc::from("--set");
        let read = |_: &str| Ok(String::new());
        let error = apply(SetKind::Typed, argument, &mut data, &source, &read).expect_err(argument);
        assert!(error.message.contains(expected), "{argument}: {}", error.message);
    }

    use serde_json::json;

    #[test]
    fn typed_values_as_helm() {
        check(
            SetKind::Typed,
            "v=1.0,w=0123,x=10,y=TRUE,z=null,e=",
            json!({"v": "1.0", "w": "0123", "x": 10, "y": true, "z": null, "e": ""}),
        );
        check(SetKind::Typed, "v=yes,w=1e3,x=-5,y=0", json!({"v": "yes", "w": "1e3", "x": -5, "y": 0}));
        check(SetKind::String, "v=10,w=true", json!({"v": "10", "w": "true"}));
    }

    #[test]
    fn paths_lists_and_escapes() {
        check(SetKind::Typed, "a.b=c,d=e", json!({"a": {"b": "c"}, "d": "e"}));
        check(SetKind::Typed, "n={a,b}", json!({"n": ["a", "b"]}));
        check(SetKind::Typed, "l[0]=a,l[3]=b", json!({"l": ["a", null, null, "b"]}));
        check(SetKind::Typed, "a[0].b=c,a[0].d=e", json!({"a": [{"b": "c", "d": "e"}]}));
        check(SetKind::Typed, "a[0][1]=x", json!({"a": [[null, "x"]]}));
        check(SetKind::Typed, r"a\.b=1,v=x\,y", json!({"a.b": 1, "v": "x,y"}));
        check(SetKind::Typed, "m[1][0]=x", json!({"m": [null, ["x"]]}));
    }

    #[test]
    fn json_file_and_literal() {
        check(SetKind::Json, r#"a={"b":[1,2]},c=null,d="x""#, json!({"a": {"b": [1, 2]}, "c": null, "d": "x"}));
        check(SetKind::File, "cert=/tmp/x.pem", json!({"cert": "content of /tmp/x.pem"}));
        check(SetKind::Literal, "a.b=x,y=z{}", json!({"a": {"b": "x,y=z{}"}}));
    }

    #[test]
    fn errors_with_helms_wording() {
        check_error("a", "key \"a\" has no value");
        check_error("a,b=1", "key \"a\" has no value (cannot end with ,)");
        check_error("a.=1", "key map \"a\" has no value");
        check_error("a={b,c", "list must terminate with '}'");
        check_error("a[0]x=1", "unexpected data at end of array index");
        check_error("a[-1]=1", "negative -1 index not allowed");
        check_error("a[70000]=1", "greater than maximum supported index");
        check_error("a.b=1,a.b.c=2", "is not a map");
    }

    /// Defect 13: what Helm drops without a word (Helm 4 even an unclosed `[`) is refused.
    #[test]
    fn nothing_typed_is_dropped() {
        for argument in ["a.b[=1", "a[0", "x=1,a.b[0", "a[0][=1", "a[0].b[=1"] {
            check_error(argument, "error parsing index: EOF");
        }
        check_error(".b=1", "empty key in \".b\": Helm would drop this setting without a word");
        check_error("=1", "empty key before `=`");
        check_error("a=1,=2", "empty key before `=`");
        check_error("[0]=1", "empty key in \"[0]\"");
        check_error("a[0].=1", "empty key in \"a[0].\"");
        check_error("a.", "key map \"a\" has no value");
        check_error("a[0].", "key map \"a[0]\" has no value");
        check_error("a[0]", "key \"a[0]\" has no value");
        check_error("a[0][1]", "key \"a[0][1]\" has no value");
        check_error("a=x\\", "the value of \"a\" ends with a lone `\\`");
        // Where Helm refuses the argument anyway, its own error wins.
        check_error(".b=1,c", "key \"c\" has no value");
        check_error("a..b=1", "key map \"a\" has no value");
        // Every kind of flag reads keys the same way.
        for kind in [SetKind::String, SetKind::Json, SetKind::File, SetKind::Literal] {
            let mut data = Mapping::default();
            let read = |_: &str| Ok(String::new());
            let error = apply(kind, "a.b[=1", &mut data, &Arc::from("t"), &read).expect_err("refused");
            assert_eq!(error.message, "error parsing index: EOF", "{kind:?}");
            let error = apply(kind, ".b=1", &mut data, &Arc::from("t"), &read).expect_err("refused");
            assert!(error.message.starts_with("empty key in"), "{kind:?}: {}", error.message);
        }
        // Still accepted, as Helm takes them: a trailing comma, empty values, a `]` in a key.
        check(SetKind::Typed, "a=1,", json!({"a": 1}));
        check(SetKind::Typed, "a=,l[0]=", json!({"a": "", "l": [""]}));
        check(SetKind::Typed, "a]=1", json!({"a]": 1}));
    }

    /// 10,000 `[0]` overflowed the stack; 300 wrote a file no later run could read. What a
    /// later run can read (256 levels with the top mapping) is the limit, refused up front.
    #[test]
    fn a_path_deeper_than_can_be_read_back_is_refused() {
        // The parser recurses once per level, as Helm's does, and an unoptimized build takes
        // more than a test thread's 2 MB for 256 levels: run with a main thread's 8 MB.
        let thread = std::thread::Builder::new().stack_size(8 << 20).spawn(deep_paths).expect("spawn");
        if let Err(panic) = thread.join() {
            std::panic::resume_unwind(panic);
        }
    }

    fn deep_paths() {
        let nested = |levels: usize| format!("a{}=1", "[0]".repeat(levels));
        let mut data = Mapping::default();
        let read = |_: &str| Ok(String::new());
        apply(SetKind::Typed, &nested(255), &mut data, &Arc::from("t"), &read).expect("255 lists under the top map");
        assert_eq!(airflow_kit_core::yaml::depth_of(&Node::new(NodeKind::Mapping(data))), 256);
        for levels in [256, 10_000] {
            check_error(&nested(levels), "this setting nests deeper than 256 levels");
        }
        // Maps inside lists count the same, and so do the lists a value brings.
        check_error(&format!("a{}.b=1", "[0]".repeat(255)), "deeper than 256 levels");
        check_error(&format!("a{}={{x,y}}", "[0]".repeat(255)), "deeper than 256 levels");
        let deep_json = format!("a{}={}1{}", "[0]".repeat(200), "[".repeat(100), "]".repeat(100));
        let mut data = Mapping::default();
        let error = apply(SetKind::Json, &deep_json, &mut data, &Arc::from("t"), &read).expect_err("too deep");
        assert!(error.message.contains("deeper than 256 levels"), "{}", error.message);
        // Each setting of an argument starts again from the top.
        let two = format!("{},{}", nested(200), nested(200).replace('a', "b"));
        check(SetKind::Typed, &two, {
            let mut data = Mapping::default();
            apply(SetKind::Typed, &two, &mut data, &Arc::from("t"), &read).expect("each is 201 deep");
            Node::new(NodeKind::Mapping(data)).to_json()
        });
    }

    /// `--set redis.password=pa,ss` fails on `ss`, which Helm's error quotes as a key: that is
    /// the rest of the password.
    #[test]
    fn an_error_after_a_secret_does_not_quote_the_rest_of_it() {
        for argument in ["redis.password=pa,ssword99", "fernetKey=abc,de.f", "extraSecrets.x.data=ab,cd[0]"] {
            let mut data = Mapping::default();
            let read = |_: &str| Ok(String::new());
            let error = apply(SetKind::Typed, argument, &mut data, &Arc::from("t"), &read).expect_err(argument);
            assert!(error.message.starts_with("cannot read what follows the secret `"), "{}", error.message);
            let shown = format!("{} {}", error.message, error.hint.unwrap_or_default());
            for part in ["ssword99", "de.f", "cd[0]"] {
                assert!(!shown.contains(part), "{shown}");
            }
        }
        // Not after a secret: Helm's own error, quoting the key.
        check_error("workers.replicas=2,oops", "key \"oops\" has no value");
    }
}
