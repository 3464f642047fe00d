//! Text to tree: saphyr-parser's events, with anchors and aliases expanded, `<<` merge keys
//! applied, duplicate keys refused, and every error placed at its file, line and column.
//!
//! Hostile input is refused before it costs anything: a document whose aliases would expand
//! far beyond what is written (a "billion laughs") is refused by go-yaml's own rule, so what
//! Helm refuses is what we refuse; an alias counts with the depth of what it brings in, so no
//! tree deeper than [`MAX_DEPTH`] is ever built and nothing that walks a tree can overflow the
//! stack; and the memory a parse takes stays linear in the input.

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
        chars: CharIndex::new(text),
        anchors: HashMap::new(),
        depth: 0,
        budget: Budget::default(),
    };
    builder.document()
}

/// Deeper than this is not a values file but an attack on the stack: no tree deeper than this
/// is built, whether written out or brought in by aliases. A tool that makes a document (a
/// `--set` path, say) keeps within it too, or it would write a file no later run could read.
pub const MAX_DEPTH: usize = 256;

/// The number of collections from `node` down to its deepest one (0 for a scalar), walked
/// without recursion so that any tree can be measured.
pub fn depth_of(node: &Node) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(node, 0usize)];
    while let Some((node, above)) = stack.pop() {
        match &node.kind {
            NodeKind::Scalar(_) => deepest = deepest.max(above),
            NodeKind::Sequence(items) => {
                deepest = deepest.max(above + 1);
                stack.extend(items.iter().map(|item| (item, above + 1)));
            }
            NodeKind::Mapping(mapping) => {
                deepest = deepest.max(above + 1);
                stack.extend(mapping.entries.values().map(|entry| (&entry.value, above + 1)));
            }
        }
    }
    deepest
}

struct Builder<'a> {
    parser: Parser<'a, saphyr_parser::StrInput<'a>>,
    name: &'a str,
    source: Arc<str>,
    chars: CharIndex<'a>,
    anchors: HashMap<usize, Anchored>,
    depth: usize,
    budget: Budget,
}

/// A node built, with what an alias to it would cost: how many nodes it expands to (keys
/// included, as go-yaml counts them) and how many collections deep it is.
struct Built {
    node: Node,
    size: u64,
    height: usize,
}

/// A collection being built: its start, its anchor and what it holds so far.
enum Open {
    Sequence(SequenceFrame),
    Mapping(Box<MappingFrame>),
}

struct SequenceFrame {
    items: Vec<Node>,
    span: ParserSpan,
    anchor: usize,
    flow: bool,
    size: u64,
    height: usize,
}

struct MappingFrame {
    mapping: Mapping,
    /// The mappings `<<` brings in, applied at the end.
    merged: Vec<Mapping>,
    /// The key whose value comes next.
    key: Option<(Scalar, ParserSpan)>,
    span: ParserSpan,
    anchor: usize,
    flow: bool,
    size: u64,
    height: usize,
}

/// The copy an anchor keeps for its aliases, with its cost.
struct Anchored {
    node: Node,
    size: u64,
    height: usize,
}

/// go-yaml's accounting (decode.go, since v2.2.8 and in v3): every node decoded counts, and
/// every node decoded inside an alias's expansion counts again as aliased. Once more than 100
/// nodes are aliased in a document of more than 1,000, the aliased share may not pass
/// [`allowed_alias_ratio`]. We count an alias's whole expansion before copying it, so the
/// refusal comes before the memory is spent. Our anchors keep a copy of what they name; those
/// copies are bounded too, since nested anchors would otherwise copy the same nodes over and
/// over without a single alias.
#[derive(Default)]
struct Budget {
    decoded: u64,
    aliased: u64,
    anchor_copies: u64,
}

/// What anchors may copy beyond what is written: generous for any values file, linear in it.
const ANCHOR_COPY_FLOOR: u64 = 1_000_000;

impl Budget {
    fn excessive(&self) -> bool {
        self.aliased > 100
            && self.decoded > 1000
            && self.aliased as f64 / self.decoded as f64 > allowed_alias_ratio(self.decoded)
    }

    fn too_many_copies(&self) -> bool {
        self.anchor_copies > ANCHOR_COPY_FLOOR + 2 * self.decoded
    }
}

/// go-yaml's `allowedAliasRatio`: up to 400,000 decoded nodes, 99% may come from aliases;
/// from 4,000,000 on, 10%; in between, a straight line from one to the other.
fn allowed_alias_ratio(decoded: u64) -> f64 {
    const LOW: u64 = 400_000;
    const HIGH: u64 = 4_000_000;
    if decoded <= LOW {
        0.99
    } else if decoded >= HIGH {
        0.10
    } else {
        0.99 - 0.89 * ((decoded - LOW) as f64 / (HIGH - LOW) as f64)
    }
}

/// The character at a character index (saphyr's markers count characters), without a copy of
/// the text as characters, which took four bytes for each byte of input. ASCII text is read
/// directly; other text through a cursor that moves with the parser, which reads forward.
struct CharIndex<'a> {
    text: &'a str,
    ascii: bool,
    /// A character index and its byte offset, where the last lookup ended.
    cursor: std::cell::Cell<(usize, usize)>,
}

impl<'a> CharIndex<'a> {
    fn new(text: &'a str) -> CharIndex<'a> {
        CharIndex { text, ascii: text.is_ascii(), cursor: std::cell::Cell::new((0, 0)) }
    }

    fn char_at(&self, index: usize) -> Option<char> {
        if self.ascii {
            return self.text.as_bytes().get(index).map(|&byte| byte as char);
        }
        let (mut at, mut byte) = self.cursor.get();
        while at > index {
            // Back one character: to the previous character boundary.
            byte -= 1;
            while !self.text.is_char_boundary(byte) {
                byte -= 1;
            }
            at -= 1;
        }
        while at < index {
            let c = self.text[byte..].chars().next()?;
            byte += c.len_utf8();
            at += 1;
        }
        self.cursor.set((at, byte));
        self.text[byte..].chars().next()
    }
}

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
        let built = self.node(event, span)?;
        // go-yaml checks the ratio at every node; later plain nodes can still tip it, since
        // the ratio allowed falls as the document grows.
        if self.budget.excessive() {
            return Err(self.excessive_aliasing(span));
        }
        // DocumentEnd, then either the end of the stream or a second document.
        let _ = self.next()?;
        match self.next()? {
            (Event::StreamEnd, _) => Ok(built.node),
            (_, span) => Err(Error::bad_input("the input holds more than one YAML document (`---`)")
                .with_location(location(self.name, pos(span.start)))
                .with_hint("give each values document its own file; Helm reads one document per values file")),
        }
    }

    /// One value and everything inside it, built with a stack of its own rather than by
    /// recursion: 256 levels of recursion took more than a test thread's 2 MB of stack.
    fn node(&mut self, event: Event<'a>, span: ParserSpan) -> Result<Built, Error> {
        let mut open: Vec<Open> = Vec::new();
        let mut pending = Some((event, span));
        loop {
            let (event, span) = match pending.take() {
                Some(first) => first,
                None => self.next()?,
            };
            // A mapping waiting for its next key takes this event as a key, or as its end.
            if let Some(Open::Mapping(frame)) = open.last_mut()
                && frame.key.is_none()
            {
                match event {
                    Event::MappingEnd => {
                        let end = self.closing(span, '}');
                        let Some(Open::Mapping(frame)) = open.pop() else {
                            return Err(self.error_at(span, "unexpected YAML structure"));
                        };
                        let built = self.close_mapping(*frame, end)?;
                        if let Some(done) = self.deliver(&mut open, built)? {
                            return Ok(done);
                        }
                    }
                    event => {
                        let key = self.key(event, span)?;
                        // go-yaml decodes each key as a node of its own.
                        self.budget.decoded += 1;
                        frame.size += 1;
                        frame.key = Some((key, span));
                    }
                }
                continue;
            }
            // Every node counts once (go-yaml's decodeCount); an alias adds what it brings in.
            if !matches!(event, Event::SequenceEnd) {
                self.budget.decoded += 1;
            }
            let built = match event {
                Event::Scalar(text, style, anchor, tag) => {
                    let scalar =
                        Scalar { text: text.into_owned(), style: style_of(style), tag: tag.map(|t| tag_text(&t)) };
                    let node = self.located(NodeKind::Scalar(scalar), span.start, span.end, false);
                    let built = Built { node, size: 1, height: 0 };
                    self.remember(anchor, &built, span)?;
                    built
                }
                Event::Alias(anchor) => self.alias(anchor, span)?,
                Event::SequenceStart(anchor, _tag) => {
                    self.enter(span)?;
                    let flow = self.char_at(span.start.index()) == Some('[');
                    open.push(Open::Sequence(SequenceFrame {
                        items: Vec::new(),
                        span,
                        anchor,
                        flow,
                        size: 1,
                        height: 1,
                    }));
                    continue;
                }
                Event::MappingStart(anchor, _tag) => {
                    self.enter(span)?;
                    let flow = self.char_at(span.start.index()) == Some('{');
                    open.push(Open::Mapping(Box::new(MappingFrame {
                        mapping: Mapping::default(),
                        merged: Vec::new(),
                        key: None,
                        span,
                        anchor,
                        flow,
                        size: 1,
                        height: 1,
                    })));
                    continue;
                }
                Event::SequenceEnd if matches!(open.last(), Some(Open::Sequence(_))) => {
                    let end = self.closing(span, ']');
                    let Some(Open::Sequence(mut frame)) = open.pop() else {
                        return Err(self.error_at(span, "unexpected YAML structure"));
                    };
                    frame.items.shrink_to_fit();
                    self.depth -= 1;
                    let end = if frame.flow { end } else { last_end(frame.items.iter()).unwrap_or(frame.span.end) };
                    let node = self.located(NodeKind::Sequence(frame.items), frame.span.start, end, frame.flow);
                    let built = Built { node, size: frame.size, height: frame.height };
                    self.remember(frame.anchor, &built, frame.span)?;
                    built
                }
                _ => return Err(self.error_at(span, "unexpected YAML structure")),
            };
            if let Some(done) = self.deliver(&mut open, built)? {
                return Ok(done);
            }
        }
    }

    /// Hands a finished value to the collection it is in; returns it when it is the top one.
    fn deliver(&mut self, open: &mut [Open], built: Built) -> Result<Option<Built>, Error> {
        match open.last_mut() {
            None => Ok(Some(built)),
            Some(Open::Sequence(frame)) => {
                frame.size += built.size;
                frame.height = frame.height.max(built.height + 1);
                frame.items.push(built.node);
                Ok(None)
            }
            Some(Open::Mapping(frame)) => {
                frame.size += built.size;
                frame.height = frame.height.max(built.height + 1);
                let Some((key, key_span)) = frame.key.take() else {
                    return Err(self.error_at(frame.span, "unexpected YAML structure"));
                };
                self.insert_entry(frame, key, key_span, built.node)?;
                Ok(None)
            }
        }
    }

    /// A mapping key: a scalar, or an alias of one.
    fn key(&self, event: Event<'a>, span: ParserSpan) -> Result<Scalar, Error> {
        match event {
            Event::Scalar(text, style, _, tag) => {
                Ok(Scalar { text: text.into_owned(), style: style_of(style), tag: tag.map(|t| tag_text(&t)) })
            }
            Event::Alias(anchor) => match self.anchors.get(&anchor).and_then(|n| n.node.as_scalar().cloned()) {
                Some(scalar) => Ok(scalar),
                None => Err(self.error_at(span, "an alias used as a key must refer to a plain value")),
            },
            _ => Err(self
                .error_at(span, "a list or mapping used as a key is not supported")
                .with_hint("Helm values need plain text keys")),
        }
    }

    fn insert_entry(
        &self,
        frame: &mut MappingFrame,
        key: Scalar,
        key_span: ParserSpan,
        value: Node,
    ) -> Result<(), Error> {
        if key.style == ScalarStyle::Plain && key.tag.is_none() && key.text == "<<" {
            frame.merged.extend(self.merge_sources(value, key_span)?);
            return Ok(());
        }
        let Some(helm_name) = helm_key(&key) else {
            return Err(self
                .error_at(key_span, "a null key (`~`, `null` or empty) cannot be a values key")
                .with_hint("quote the key if it is meant as text: `\"null\": ...`"));
        };
        if let Some(previous) = frame.mapping.entries.get(&helm_name) {
            return Err(self.duplicate_key(key_span, &helm_name, previous, &key));
        }
        let key_span = Some(Span { start: pos(key_span.start), end: pos(key_span.end) });
        frame.mapping.entries.insert(helm_name, Entry { key, key_span, value });
        Ok(())
    }

    /// A mapping at its end: keys brought in by `<<` yield to keys written in it.
    fn close_mapping(&mut self, frame: MappingFrame, end: saphyr_parser::Marker) -> Result<Built, Error> {
        let MappingFrame { mut mapping, merged, span, anchor, flow, size, height, .. } = frame;
        for source in merged {
            for (name, entry) in source.entries {
                mapping.entries.entry(name).or_insert(entry);
            }
        }
        // A map grows its storage by doubling; what it holds is final now, and the slack was
        // most of the memory of a large file.
        mapping.entries.shrink_to_fit();
        self.depth -= 1;
        let end = if flow { end } else { last_end(mapping.entries.values().map(|e| &e.value)).unwrap_or(span.end) };
        let node = self.located(NodeKind::Mapping(mapping), span.start, end, flow);
        let built = Built { node, size, height };
        self.remember(anchor, &built, span)?;
        Ok(built)
    }

    /// An alias: what its anchor named, once the expansion is known to be affordable. The alias
    /// itself counts as a node, and everything it brings in counts as aliased.
    fn alias(&mut self, anchor: usize, span: ParserSpan) -> Result<Built, Error> {
        let Some(anchored) = self.anchors.get(&anchor) else {
            return Err(self
                .error_at(span, "an alias refers to an anchor that is not defined")
                .with_hint(UNKNOWN_ANCHOR_HINT));
        };
        let (size, height) = (anchored.size, anchored.height);
        if self.depth + height > MAX_DEPTH {
            return Err(self
                .error_at(
                    span,
                    &format!(
                        "nesting deeper than {MAX_DEPTH} levels: this alias, {} levels down, brings in a value {height} levels deep",
                        self.depth
                    ),
                )
                .with_hint("a values file is never this deep; write the values out instead of nesting aliases"));
        }
        self.budget.decoded += size;
        self.budget.aliased += size;
        if self.budget.excessive() {
            return Err(self.excessive_aliasing(span));
        }
        let node = self.anchors.get(&anchor).map(|anchored| anchored.node.clone()).unwrap_or_else(Node::null);
        Ok(Built { node, size: size + 1, height })
    }

    fn excessive_aliasing(&self, span: ParserSpan) -> Error {
        let Budget { decoded, aliased, .. } = self.budget;
        self.error_at(
            span,
            &format!(
                "the document contains excessive aliasing: its aliases expand to {aliased} of its {decoded} values, more than Helm allows"
            ),
        )
        .with_hint(
            "this is the shape of a YAML bomb (\"billion laughs\"); Helm refuses it too (`document contains excessive aliasing`): write the values out, or alias fewer, smaller values",
        )
    }

    /// Two keys Helm reads as the same key. When either is not written as that key (`y` and
    /// `yes` are both `true` to YAML 1.1), the message says so: a duplicate `true` alone, in a
    /// file that has no `true`, explains nothing.
    fn duplicate_key(&self, span: ParserSpan, helm_name: &str, previous: &Entry, key: &Scalar) -> Error {
        let first_line = previous.key_span.map(|s| s.start.line).unwrap_or_default();
        let written_as = |scalar: &Scalar| scalar.text != helm_name;
        if !written_as(key) && !written_as(&previous.key) {
            return self
                .error_at(span, &format!("duplicate key `{helm_name}` (first defined on line {first_line})"))
                .with_hint("remove one of the two; Helm would silently keep only the last");
        }
        let resolved = match helm_name {
            "true" | "false" => format!("the boolean {helm_name}"),
            _ => format!("the number {helm_name}"),
        };
        let message = format!(
            "duplicate key `{}` (first defined on line {first_line} as `{}`): YAML 1.1, which Helm reads values with, takes both as {resolved}",
            key.text, previous.key.text
        );
        self.error_at(span, &message).with_hint(format!(
            "quote a key meant as text (`\"{}\":`), or remove one of the two; Helm would silently keep only the last",
            key.text
        ))
    }

    /// The mappings a `<<` value brings in: one mapping, or a list of them (earlier wins).
    fn merge_sources(&self, value: Node, span: ParserSpan) -> Result<Vec<Mapping>, Error> {
        match value.kind {
            NodeKind::Mapping(mapping) => Ok(vec![mapping]),
            NodeKind::Sequence(items) => items
                .into_iter()
                .map(|item| match item.kind {
                    NodeKind::Mapping(mapping) => Ok(mapping),
                    _ => Err(self.error_at(span, "`<<` must merge mappings")),
                })
                .collect(),
            NodeKind::Scalar(_) => Err(self.error_at(span, "`<<` must merge a mapping or a list of mappings")),
        }
    }

    fn enter(&mut self, span: ParserSpan) -> Result<(), Error> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self
                .error_at(span, &format!("nesting deeper than {MAX_DEPTH} levels"))
                .with_hint("a values file is never this deep; check for a runaway `[` or `{`"));
        }
        Ok(())
    }

    /// Keeps a copy of an anchored node for its aliases. The copies are counted: nested
    /// anchors copy the same nodes once per level, which must stay linear in the input too.
    fn remember(&mut self, anchor: usize, built: &Built, span: ParserSpan) -> Result<(), Error> {
        if anchor == 0 {
            return Ok(());
        }
        self.budget.anchor_copies += built.size;
        if self.budget.too_many_copies() {
            return Err(self
                .error_at(span, "the document nests anchors inside anchors beyond what any values file needs")
                .with_hint("each `&anchor` here copies everything below it again; remove the inner anchors"));
        }
        self.anchors.insert(anchor, Anchored { node: built.node.clone(), size: built.size, height: built.height });
        Ok(())
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
        self.chars.char_at(index)
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

const UNKNOWN_ANCHOR_HINT: &str = "an alias `*name` needs its anchor `&name` earlier in the same file (anchors do not reach across files); a value that starts with `*` is quoted: `\"*...\"`";

fn hint_for_scan_error(info: &str) -> &'static str {
    // Most specific first, and by whole words: "unprintable" holds "tab", and every message
    // about a quoted scalar starts "while parsing".
    let says = |word: &str| info.split(|c: char| !c.is_ascii_alphabetic()).any(|w| w == word);
    if info.contains("unprintable character") {
        "the text holds a control character here (a NUL byte, say), which YAML does not allow; remove it, or write it as an escape inside double quotes (`\"\\0\"`)"
    } else if info.contains("unknown escape character") {
        "inside double quotes `\\` starts an escape (`\\n`, `\\t`, `\\\"`); write `\\\\` for a backslash, or use single quotes, where `\\` is an ordinary character"
    } else if info.contains("unknown anchor") {
        UNKNOWN_ANCHOR_HINT
    } else if info.contains("recursion limit exceeded") {
        "a values file is never nested this deep; check for a runaway `[` or `{`"
    } else if info.contains("mapping values are not allowed") {
        "check the indentation of this line and the one above, or quote a value that contains `: `"
    } else if says("tab") || says("tabs") {
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

    /// A billion laughs: nine lists of nine, each made of the one before (about 600 bytes that
    /// expand to 387 million strings). Refused by go-yaml's ratio before anything is copied.
    fn billion_laughs() -> String {
        let mut text =
            String::from("lol1: &lol1 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for level in 2..=9 {
            let items = vec![format!("*lol{}", level - 1); 9].join(",");
            text.push_str(&format!("lol{level}: &lol{level} [{items}]\n"));
        }
        text
    }

    #[test]
    fn excessive_aliasing_is_refused_before_it_is_expanded() {
        let bomb = error(&billion_laughs());
        assert!(bomb.message.contains("excessive aliasing"), "{}", bomb.message);
        assert!(bomb.hint.as_deref().is_some_and(|hint| hint.contains("document contains excessive aliasing")));
        // The alias that tipped it is named by its line: the fourth list (9^3 = 729 strings).
        assert_eq!(bomb.location.expect("located").line, 4);
        // A few levels of the same are an ordinary document with aliases.
        let small: String = billion_laughs().lines().take(3).map(|line| format!("{line}\n")).collect();
        assert_eq!(json(&small)["lol3"].as_array().map(Vec::len), Some(9));
    }

    #[test]
    fn the_ratio_is_go_yamls() {
        assert_eq!(allowed_alias_ratio(1000), 0.99);
        assert_eq!(allowed_alias_ratio(400_000), 0.99);
        assert!((allowed_alias_ratio(2_200_000) - 0.545).abs() < 1e-9);
        assert_eq!(allowed_alias_ratio(4_000_000), 0.10);
        assert_eq!(allowed_alias_ratio(u64::MAX), 0.10);
        // Up to 100 aliased nodes, or up to 1,000 in all, nothing is refused.
        let many: String = (0..50).map(|i| format!("k{i}: *a\n")).collect();
        assert!(parse_document(&format!("a: &a [1]\n{many}"), "t").is_ok());
    }

    /// Aliases nest: a chain of 5,000 lists, each the one before inside a list, is 126 KB of
    /// text and a tree 5,000 levels deep, which would overflow the stack of everything that
    /// walks it. The depth an alias brings in counts into the nesting limit.
    #[test]
    fn an_alias_counts_with_its_depth() {
        let mut chain = String::from("a0: &a0 [x]\n");
        for level in 1..5000 {
            chain.push_str(&format!("a{level}: &a{level} [*a{}]\n", level - 1));
        }
        let deep = error(&chain);
        assert!(
            deep.message.starts_with(
                "nesting deeper than 256 levels: this alias, 2 levels down, brings in a value 255 levels deep"
            ),
            "{}",
            deep.message
        );
        assert_eq!(deep.location.expect("located").line, 256);
        // Written out, the same depth is refused the same way (saphyr stops flow collections
        // at 255 levels itself).
        let block = |levels: usize| -> String {
            (0..levels).map(|level| format!("{}k:\n", "  ".repeat(level))).collect::<String>()
                + &"  ".repeat(levels)
                + "x\n"
        };
        assert!(error(&block(300)).message.starts_with("nesting deeper than 256 levels"));
        let flow = error(&format!("a: {}{}\n", "[".repeat(300), "]".repeat(300)));
        assert!(flow.hint.expect("hinted").contains("runaway `[`"), "{}", flow.message);
        // Exactly at the limit is fine, and measured without recursion.
        let node = parse_document(&block(256), "t").expect("256 levels with the top mapping");
        assert_eq!(depth_of(&node), MAX_DEPTH);
    }

    #[test]
    fn nested_anchors_cannot_copy_without_bound() {
        // 200 anchors, each on a list holding the next, around 10,000 values: every anchor
        // copies all below it, 2 million copies from 10,000 values written.
        let mut text = String::from("a: ");
        for level in 0..200 {
            text.push_str(&format!("&n{level} ["));
        }
        text.push_str(&vec!["1"; 10_000].join(","));
        text.push_str(&"]".repeat(200));
        text.push('\n');
        assert!(error(&text).message.contains("nests anchors inside anchors"));
    }

    #[test]
    fn hints_fit_the_error() {
        let hint = |text: &str| error(text).hint.expect("hinted");
        assert!(hint("a: b\0c\n").contains("control character"), "a NUL byte is not about tabs");
        assert!(hint("a: \"x\\qy\"\n").contains("starts an escape"));
        assert!(hint("a: *nope\n").contains("needs its anchor"));
        assert!(hint("a:\n\tb: 1\n").contains("not tabs"));
    }

    #[test]
    fn a_duplicate_says_when_yaml_1_1_made_it_one() {
        let duplicate = error("y: 1\nyes: 2\n");
        assert_eq!(
            duplicate.message,
            "duplicate key `yes` (first defined on line 1 as `y`): YAML 1.1, which Helm reads values with, takes both as the boolean true"
        );
        assert!(duplicate.hint.expect("hinted").contains("`\"yes\":`"));
        assert!(error("on: 1\n\"true\": 2\n").message.contains("as `on`"));
        assert!(error("1: a\n0x1: b\n").message.contains("the number 1"));
    }
}
