//! Text to tree: saphyr-parser's events, with anchors and aliases expanded, `<<` merge keys
//! applied, duplicate keys refused, and every error placed at its file, line and column.

use std::collections::HashMap;
use std::sync::Arc;

use saphyr_parser::{Event, Parser, ScalarStyle as ParserStyle, Span as ParserSpan, Tag};

use super::resolve::helm_key;
use super::{Entry, Mapping, Node, NodeKind, Pos, Scalar, ScalarStyle, Span};
use crate::error::{Error, Location};

/// Parses a values document: one YAML document whose top is a mapping (an empty document or
/// a top-level null is an empty mapping, as Helm treats it).
pub fn parse_document(text: &str, name: &str) -> Result<Node, Error> {
    let node = parse_node(text, name)?;
    match &node.kind {
        NodeKind::Mapping(_) => Ok(node),
        NodeKind::Scalar(_) if node.is_null() => {
            let mut empty = Node::mapping();
            empty.source = node.source;
            Ok(empty)
        }
        other => {
            let what = match other {
                NodeKind::Sequence(_) => "a list",
                _ => "a single value",
            };
            let start = node.span.map(|span| span.start).unwrap_or_default();
            Err(Error::bad_input(format!("the document is {what}, not a mapping of keys to values"))
                .with_location(location(name, start))
                .with_hint("Helm values must be a mapping at the top level, like `key: value`"))
        }
    }
}

/// Parses exactly one YAML document of any shape; an empty input is a null scalar.
fn parse_node(text: &str, name: &str) -> Result<Node, Error> {
    let mut builder = Builder {
        parser: Parser::new_from_str(text),
        name,
        source: Arc::from(name),
        chars: text.chars().collect(),
        anchors: HashMap::new(),
        depth: 0,
    };
    builder.document()
}

struct Builder<'a> {
    parser: Parser<'a, saphyr_parser::StrInput<'a>>,
    name: &'a str,
    source: Arc<str>,
    chars: Vec<char>,
    anchors: HashMap<usize, Node>,
    depth: usize,
}

/// Deeper than this is not a values file but an attack on the stack.
const MAX_DEPTH: usize = 256;

impl<'a> Builder<'a> {
    fn next(&mut self) -> Result<(Event<'a>, ParserSpan), Error> {
        match self.parser.next_event() {
            Some(Ok(event)) => Ok(event),
            Some(Err(error)) => {
                let marker = error.marker();
                let pos = Pos { line: marker.line(), column: marker.col() + 1, index: marker.index() };
                Err(Error::bad_input(error.info().to_string())
                    .with_location(location(self.name, pos))
                    .with_hint(hint_for_scan_error(error.info())))
            }
            None => Err(Error::bad_input(format!("`{}` ends in the middle of the YAML stream", self.name))
                .with_hint("check that the file is complete")),
        }
    }

    fn document(&mut self) -> Result<Node, Error> {
        let mut empty = Node::null();
        empty.source = Some(self.source.clone());
        loop {
            match self.next()?.0 {
                Event::StreamStart => continue,
                Event::StreamEnd => return Ok(empty),
                Event::DocumentStart(_) => break,
                _ => {
                    return Err(Error::bad_input(format!("`{}` does not start a YAML document", self.name))
                        .with_hint("check the first lines of the input"));
                }
            }
        }
        let (event, span) = self.next()?;
        let node = self.node(event, span)?;
        // DocumentEnd, then either the end of the stream or a second document.
        let _ = self.next()?;
        match self.next()? {
            (Event::StreamEnd, _) => Ok(node),
            (_, span) => Err(Error::bad_input("the input holds more than one YAML document (`---`)")
                .with_location(location(self.name, pos(span.start)))
                .with_hint("give each values document its own file; Helm reads one document per values file")),
        }
    }

    fn node(&mut self, event: Event<'a>, span: ParserSpan) -> Result<Node, Error> {
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let scalar = Scalar { text: text.into_owned(), style: style_of(style), tag: tag.map(|t| tag_text(&t)) };
                let node = self.located(NodeKind::Scalar(scalar), span.start, span.end, false);
                self.remember(anchor, &node);
                Ok(node)
            }
            Event::Alias(anchor) => match self.anchors.get(&anchor) {
                Some(node) => Ok(node.clone()),
                None => Err(self.error_at(span, "an alias refers to an anchor that is not defined")),
            },
            Event::SequenceStart(anchor, _tag) => {
                self.enter(span)?;
                let flow = self.char_at(span.start.index()) == Some('[');
                let mut items = Vec::new();
                let end = loop {
                    let (event, item_span) = self.next()?;
                    if let Event::SequenceEnd = event {
                        break self.closing(item_span, ']');
                    }
                    items.push(self.node(event, item_span)?);
                };
                self.depth -= 1;
                let end = if flow { end } else { last_end(items.iter()).unwrap_or(span.end) };
                let node = self.located(NodeKind::Sequence(items), span.start, end, flow);
                self.remember(anchor, &node);
                Ok(node)
            }
            Event::MappingStart(anchor, _tag) => {
                self.enter(span)?;
                let flow = self.char_at(span.start.index()) == Some('{');
                let (mapping, end) = self.mapping()?;
                self.depth -= 1;
                let end =
                    if flow { end } else { last_end(mapping.entries.values().map(|e| &e.value)).unwrap_or(span.end) };
                let node = self.located(NodeKind::Mapping(mapping), span.start, end, flow);
                self.remember(anchor, &node);
                Ok(node)
            }
            _ => Err(self.error_at(span, "unexpected YAML structure")),
        }
    }

    fn mapping(&mut self) -> Result<(Mapping, saphyr_parser::Marker), Error> {
        let mut mapping = Mapping::default();
        // Keys brought in by `<<` yield to keys written in the mapping itself.
        let mut merged: Vec<Mapping> = Vec::new();
        let end = loop {
            let (event, key_span) = self.next()?;
            let key = match event {
                Event::MappingEnd => break self.closing(key_span, '}'),
                Event::Scalar(text, style, _, tag) => {
                    Scalar { text: text.into_owned(), style: style_of(style), tag: tag.map(|t| tag_text(&t)) }
                }
                Event::Alias(anchor) => match self.anchors.get(&anchor).and_then(|n| n.as_scalar().cloned()) {
                    Some(scalar) => scalar,
                    None => return Err(self.error_at(key_span, "an alias used as a key must refer to a plain value")),
                },
                _ => {
                    return Err(self
                        .error_at(key_span, "a list or mapping used as a key is not supported")
                        .with_hint("Helm values need plain text keys"));
                }
            };
            let (value_event, value_span) = self.next()?;
            let value = self.node(value_event, value_span)?;
            if key.style == ScalarStyle::Plain && key.tag.is_none() && key.text == "<<" {
                merged.extend(self.merge_sources(&value, key_span)?);
                continue;
            }
            let Some(helm_name) = helm_key(&key) else {
                return Err(self
                    .error_at(key_span, "a null key (`~`, `null` or empty) cannot be a values key")
                    .with_hint("quote the key if it is meant as text: `\"null\": ...`"));
            };
            if let Some(previous) = mapping.entries.get(&helm_name) {
                let first_line = previous.key_span.map(|s| s.start.line).unwrap_or_default();
                return Err(self
                    .error_at(key_span, &format!("duplicate key `{helm_name}` (first defined on line {first_line})"))
                    .with_hint("remove one of the two; Helm would silently keep only the last"));
            }
            let key_span = Some(Span { start: pos(key_span.start), end: pos(key_span.end) });
            mapping.entries.insert(helm_name, Entry { key, key_span, value });
        };
        for source in merged {
            for (name, entry) in source.entries {
                mapping.entries.entry(name).or_insert(entry);
            }
        }
        Ok((mapping, end))
    }

    /// The mappings a `<<` value brings in: one mapping, or a list of them (earlier wins).
    fn merge_sources(&self, value: &Node, span: ParserSpan) -> Result<Vec<Mapping>, Error> {
        match &value.kind {
            NodeKind::Mapping(mapping) => Ok(vec![mapping.clone()]),
            NodeKind::Sequence(items) => items
                .iter()
                .map(|item| item.as_mapping().cloned().ok_or_else(|| self.error_at(span, "`<<` must merge mappings")))
                .collect(),
            NodeKind::Scalar(_) => Err(self.error_at(span, "`<<` must merge a mapping or a list of mappings")),
        }
    }

    fn enter(&mut self, span: ParserSpan) -> Result<(), Error> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error_at(span, &format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    fn remember(&mut self, anchor: usize, node: &Node) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
    }

    fn located(&self, kind: NodeKind, start: saphyr_parser::Marker, end: saphyr_parser::Marker, flow: bool) -> Node {
        Node { kind, span: Some(Span { start: pos(start), end: pos(end) }), source: Some(self.source.clone()), flow }
    }

    /// Just past a flow collection's closing bracket. The end event's own span may run on
    /// over a trailing comment, which must stay outside the node.
    fn closing(&self, span: ParserSpan, bracket: char) -> saphyr_parser::Marker {
        let mut marker = span.start;
        let mut index = span.start.index();
        while index < span.end.index() {
            if self.char_at(index) == Some(bracket) {
                let column = marker.col() + (index - marker.index()) + 1;
                marker = saphyr_parser::Marker::new(index + 1, marker.line(), column);
                return marker;
            }
            index += 1;
        }
        span.end
    }

    fn char_at(&self, index: usize) -> Option<char> {
        self.chars.get(index).copied()
    }

    fn error_at(&self, span: ParserSpan, message: &str) -> Error {
        // Callers with a more precise fix replace this hint with theirs.
        Error::bad_input(message.to_string())
            .with_location(location(self.name, pos(span.start)))
            .with_hint("check the YAML at this position")
    }
}

fn last_end<'n>(nodes: impl Iterator<Item = &'n Node>) -> Option<saphyr_parser::Marker> {
    nodes
        .filter_map(|node| node.span)
        .map(|span| span.end)
        .max_by_key(|end| end.index)
        .map(|end| saphyr_parser::Marker::new(end.index, end.line, end.column - 1))
}

fn pos(marker: saphyr_parser::Marker) -> Pos {
    Pos { line: marker.line(), column: marker.col() + 1, index: marker.index() }
}

fn location(name: &str, pos: Pos) -> Location {
    Location { file: name.to_string(), line: pos.line.max(1), column: pos.column.max(1) }
}

fn style_of(style: ParserStyle) -> ScalarStyle {
    match style {
        ParserStyle::Plain => ScalarStyle::Plain,
        ParserStyle::SingleQuoted => ScalarStyle::SingleQuoted,
        ParserStyle::DoubleQuoted => ScalarStyle::DoubleQuoted,
        ParserStyle::Literal => ScalarStyle::Literal,
        ParserStyle::Folded => ScalarStyle::Folded,
    }
}

fn tag_text(tag: &Tag) -> String {
    if tag.handle == "tag:yaml.org,2002:" {
        format!("!!{}", tag.suffix)
    } else {
        format!("{}{}", tag.handle, tag.suffix)
    }
}

fn hint_for_scan_error(info: &str) -> &'static str {
    if info.contains("mapping values are not allowed") {
        "check the indentation of this line and the one above, or quote a value that contains `: `"
    } else if info.contains("tab") {
        "YAML indentation must use spaces, not tabs"
    } else if info.contains("did not find expected") || info.contains("while parsing") {
        "check the indentation and that every quote and bracket is closed"
    } else if info.contains("invalid") || info.contains("unexpected character") {
        "quote the value if it contains special characters (`:`, `#`, `{`, `[`, `@`, a backtick)"
    } else {
        "check the YAML syntax around this position"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> serde_json::Value {
        parse_document(text, "t.yaml").expect("parses").to_json()
    }

    fn error(text: &str) -> Error {
        parse_document(text, "t.yaml").expect_err("must fail")
    }

    #[test]
    fn resolves_like_helm() {
        assert_eq!(
            json("a: yes\nb: 'yes'\nc: 0755\nd: ~\ne: 1_000\non: 1\n"),
            serde_json::json!({"a": true, "b": "yes", "c": 493, "d": null, "e": 1000, "true": 1})
        );
    }

    #[test]
    fn empty_and_null_documents_are_empty_mappings() {
        assert_eq!(json(""), serde_json::json!({}));
        assert_eq!(json("# only a comment\n"), serde_json::json!({}));
        assert_eq!(json("---\n~\n"), serde_json::json!({}));
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        assert_eq!(
            json("base: &b {x: 1, z: 2}\nother:\n  <<: *b\n  z: 3\nlist: [*b]\n"),
            serde_json::json!({"base": {"x": 1, "z": 2}, "other": {"x": 1, "z": 3}, "list": [{"x": 1, "z": 2}]})
        );
    }

    #[test]
    fn refuses_non_mappings_duplicates_and_streams() {
        let list = error("- a\n- b\n");
        assert!(list.message.contains("is a list"), "{}", list.message);
        assert!(error("42\n").message.contains("a single value"));
        let duplicate = error("a: 1\nb: 2\na: 3\n");
        assert!(duplicate.message.contains("duplicate key `a` (first defined on line 1)"), "{}", duplicate.message);
        assert_eq!(duplicate.location.expect("located").line, 3);
        assert!(error("a: 1\n---\nb: 2\n").message.contains("more than one YAML document"));
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let error = error("a:\n  b: 1\n c: 2: 3\n");
        let location = error.location.clone().expect("located");
        assert_eq!((location.file.as_str(), location.line), ("t.yaml", 3), "{error:?}");
        assert!(error.hint.is_some());
    }

    #[test]
    fn block_collections_end_at_their_last_value() {
        let node = parse_document("a:\n  x: 1\n  z: [1, 2]\n# trailing\nb: 2\n", "t").expect("parses");
        let a = node.get_path(&["a"]).expect("a");
        let span = a.span.expect("span");
        assert_eq!((span.start.line, span.end.line, span.end.column), (2, 3, 12));
        assert!(a.get_path(&["z"]).expect("z").flow);
    }
}
