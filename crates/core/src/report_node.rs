//! A report straight to the YAML tree: a serde `Serializer` that builds exactly the [`Node`]
//! that `yaml::from_json(&serde_json::to_value(report))` builds (what `report::to_yaml` emits),
//! without the JSON value in between. For reports written piece by piece on a hot path
//! (pod-inspect's `status` of 1,000 pods), where building and freeing that second tree for
//! every item cost a fifth of the run.

use std::fmt::Display;

use serde::Serialize;
use serde::ser;

use crate::error::Error;
use crate::yaml::{Mapping, Node, NodeKind, ScalarStyle};

/// `value` as the tree `report::to_yaml` would emit for it.
pub fn to_node<T: Serialize + ?Sized>(value: &T) -> Result<Node, Error> {
    value
        .serialize(NodeSerializer)
        .map_err(|SerializeError(message)| Error::bad_input(format!("cannot write the report: {message}")))
}

/// Why a value cannot be a report (a map key that is not a string, a number JSON cannot hold).
#[derive(Debug)]
pub struct SerializeError(String);

impl Display for SerializeError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl std::error::Error for SerializeError {}

impl ser::Error for SerializeError {
    fn custom<T: Display>(message: T) -> SerializeError {
        SerializeError(message.to_string())
    }
}

type Result<T, E = SerializeError> = std::result::Result<T, E>;

struct NodeSerializer;

/// What serde_json does with a float: its own text for a finite one, `null` otherwise.
fn float(value: f64) -> Node {
    serde_json::Number::from_f64(value).map(|number| Node::plain(number.to_string())).unwrap_or_else(Node::null)
}

fn integer(value: impl Display) -> Node {
    Node::plain(value.to_string())
}

/// `{variant: value}`, serde_json's form of an enum variant that carries data.
fn variant_node(variant: &str, value: Node) -> Node {
    let mut mapping = Mapping::default();
    mapping.insert(variant, value);
    Node::new(NodeKind::Mapping(mapping))
}

impl ser::Serializer for NodeSerializer {
    type Ok = Node;
    type Error = SerializeError;
    type SerializeSeq = SequenceBuilder;
    type SerializeTuple = SequenceBuilder;
    type SerializeTupleStruct = SequenceBuilder;
    type SerializeTupleVariant = VariantSequenceBuilder;
    type SerializeMap = MappingBuilder;
    type SerializeStruct = MappingBuilder;
    type SerializeStructVariant = VariantMappingBuilder;

    fn serialize_bool(self, value: bool) -> Result<Node> {
        Ok(Node::bool(value))
    }
    fn serialize_i8(self, value: i8) -> Result<Node> {
        Ok(integer(value))
    }
    fn serialize_i16(self, value: i16) -> Result<Node> {
        Ok(integer(value))
    }
    fn serialize_i32(self, value: i32) -> Result<Node> {
        Ok(integer(value))
    }
    fn serialize_i64(self, value: i64) -> Result<Node> {
        Ok(integer(value))
    }
    fn serialize_i128(self, value: i128) -> Result<Node> {
        // serde_json holds 128-bit integers only when they fit in 64 bits.
        if i64::try_from(value).is_ok() || u64::try_from(value).is_ok() {
            return Ok(integer(value));
        }
        Err(SerializeError("number out of range".into()))
    }
    fn serialize_u8(self, value: u8) -> Result<Node> {
        Ok(integer(value))
    }
    fn serialize_u16(self, value: u16) -> Result<Node> {
        Ok(integer(value))
    }
    fn serialize_u32(self, value: u32) -> Result<Node> {
        Ok(integer(value))
    }
    fn serialize_u64(self, value: u64) -> Result<Node> {
        Ok(integer(value))
    }
    fn serialize_u128(self, value: u128) -> Result<Node> {
        if u64::try_from(value).is_ok() {
            return Ok(integer(value));
        }
        Err(SerializeError("number out of range".into()))
    }
    fn serialize_f32(self, value: f32) -> Result<Node> {
        Ok(float(f64::from(value)))
    }
    fn serialize_f64(self, value: f64) -> Result<Node> {
        Ok(float(value))
    }
    fn serialize_char(self, value: char) -> Result<Node> {
        Ok(Node::string(value.to_string()))
    }
    fn serialize_str(self, value: &str) -> Result<Node> {
        Ok(Node::string(value))
    }
    fn serialize_bytes(self, value: &[u8]) -> Result<Node> {
        Ok(Node::sequence(value.iter().map(integer).collect()))
    }
    fn serialize_none(self) -> Result<Node> {
        Ok(Node::null())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Node> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Node> {
        Ok(Node::null())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Node> {
        Ok(Node::null())
    }
    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Result<Node> {
        Ok(Node::string(variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> Result<Node> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Node> {
        Ok(variant_node(variant, value.serialize(NodeSerializer)?))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SequenceBuilder> {
        Ok(SequenceBuilder { items: Vec::with_capacity(len.unwrap_or(0)) })
    }
    fn serialize_tuple(self, len: usize) -> Result<SequenceBuilder> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<SequenceBuilder> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantSequenceBuilder> {
        Ok(VariantSequenceBuilder { variant, items: Vec::with_capacity(len) })
    }
    fn serialize_map(self, len: Option<usize>) -> Result<MappingBuilder> {
        Ok(MappingBuilder::with_capacity(len.unwrap_or(0)))
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<MappingBuilder> {
        Ok(MappingBuilder::with_capacity(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantMappingBuilder> {
        Ok(VariantMappingBuilder { variant, mapping: MappingBuilder::with_capacity(len) })
    }
}

struct SequenceBuilder {
    items: Vec<Node>,
}

impl SequenceBuilder {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.items.push(value.serialize(NodeSerializer)?);
        Ok(())
    }
}

impl ser::SerializeSeq for SequenceBuilder {
    type Ok = Node;
    type Error = SerializeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.push(value)
    }
    fn end(self) -> Result<Node> {
        Ok(Node::sequence(self.items))
    }
}

impl ser::SerializeTuple for SequenceBuilder {
    type Ok = Node;
    type Error = SerializeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.push(value)
    }
    fn end(self) -> Result<Node> {
        Ok(Node::sequence(self.items))
    }
}

impl ser::SerializeTupleStruct for SequenceBuilder {
    type Ok = Node;
    type Error = SerializeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.push(value)
    }
    fn end(self) -> Result<Node> {
        Ok(Node::sequence(self.items))
    }
}

struct VariantSequenceBuilder {
    variant: &'static str,
    items: Vec<Node>,
}

impl ser::SerializeTupleVariant for VariantSequenceBuilder {
    type Ok = Node;
    type Error = SerializeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.items.push(value.serialize(NodeSerializer)?);
        Ok(())
    }
    fn end(self) -> Result<Node> {
        Ok(variant_node(self.variant, Node::sequence(self.items)))
    }
}

struct MappingBuilder {
    mapping: Mapping,
    key: Option<String>,
}

impl MappingBuilder {
    fn with_capacity(fields: usize) -> MappingBuilder {
        MappingBuilder { mapping: Mapping { entries: indexmap::IndexMap::with_capacity(fields) }, key: None }
    }

    fn end(self) -> Node {
        Node::new(NodeKind::Mapping(self.mapping))
    }
}

/// A map key as serde_json writes it: a string, or the text of a number, bool or unit variant.
fn key_text<T: Serialize + ?Sized>(key: &T) -> Result<String> {
    match key.serialize(NodeSerializer)?.kind {
        NodeKind::Scalar(scalar) if !(scalar.style == ScalarStyle::Plain && scalar.text == "null") => Ok(scalar.text),
        _ => Err(SerializeError("key must be a string".into())),
    }
}

impl ser::SerializeMap for MappingBuilder {
    type Ok = Node;
    type Error = SerializeError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<()> {
        self.key = Some(key_text(key)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let key = self.key.take().ok_or_else(|| SerializeError("a map value came without its key".into()))?;
        self.mapping.insert(&key, value.serialize(NodeSerializer)?);
        Ok(())
    }
    fn end(self) -> Result<Node> {
        Ok(MappingBuilder::end(self))
    }
}

impl ser::SerializeStruct for MappingBuilder {
    type Ok = Node;
    type Error = SerializeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<()> {
        self.mapping.insert(key, value.serialize(NodeSerializer)?);
        Ok(())
    }
    fn end(self) -> Result<Node> {
        Ok(MappingBuilder::end(self))
    }
}

struct VariantMappingBuilder {
    variant: &'static str,
    mapping: MappingBuilder,
}

impl ser::SerializeStructVariant for VariantMappingBuilder {
    type Ok = Node;
    type Error = SerializeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<()> {
        ser::SerializeStruct::serialize_field(&mut self.mapping, key, value)
    }
    fn end(self) -> Result<Node> {
        Ok(variant_node(self.variant, self.mapping.end()))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Serialize;

    use super::*;
    use crate::yaml::from_json;

    /// The tree must be exactly what `report::to_yaml` builds through serde_json.
    fn check<T: Serialize>(value: &T) {
        let through_json = from_json(&serde_json::to_value(value).expect("to json"));
        assert_eq!(to_node(value).expect("to node"), through_json);
    }

    #[derive(Serialize)]
    enum Shape {
        Unit,
        Newtype(u8),
        Tuple(i32, String),
        Struct { side: f64 },
    }

    #[derive(Serialize)]
    #[serde(rename_all = "snake_case")]
    enum Outcome {
        TimedOut,
    }

    #[derive(Serialize)]
    struct Wrapper(String);

    #[derive(Serialize)]
    struct Report {
        release: String,
        healthy: bool,
        revision: u32,
        delta: i64,
        ratio: f64,
        narrow: f32,
        not_a_number: f64,
        missing: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<String>,
        present: Option<Vec<String>>,
        outcome: Outcome,
        shapes: Vec<Shape>,
        wrapper: Wrapper,
        letter: char,
        unit: (),
        pair: (u8, bool),
        numbered: BTreeMap<u32, String>,
        flags: BTreeMap<bool, String>,
        nested: BTreeMap<String, Vec<BTreeMap<String, String>>>,
    }

    #[test]
    fn the_same_tree_as_through_serde_json() {
        let report = Report {
            release: "yes".into(),
            healthy: false,
            revision: 7,
            delta: -3,
            ratio: 0.1,
            narrow: 1.1,
            not_a_number: f64::NAN,
            missing: None,
            skipped: None,
            present: Some(vec!["on".into(), "a: b".into(), "multi\nline".into()]),
            outcome: Outcome::TimedOut,
            shapes: vec![Shape::Unit, Shape::Newtype(4), Shape::Tuple(-1, "x".into()), Shape::Struct { side: 2.5 }],
            wrapper: Wrapper("null".into()),
            letter: '~',
            unit: (),
            pair: (1, true),
            numbered: BTreeMap::from([(1, "one".into()), (10, "ten".into())]),
            flags: BTreeMap::from([(true, "t".into())]),
            nested: BTreeMap::from([("k".into(), vec![BTreeMap::from([("a".into(), "1".into())])])]),
        };
        check(&report);
        check(&vec![1u64, u64::MAX]);
        check(&i128::from(i64::MIN));
        check(&serde_json::json!({"a": [1, 2.5, null, "x"], "b": {}}));
    }

    #[test]
    fn what_json_cannot_hold_is_an_error() {
        assert!(to_node(&u128::MAX).is_err());
        let unit_keys = BTreeMap::from([((), 1)]);
        assert!(serde_json::to_value(&unit_keys).is_err());
        assert!(to_node(&unit_keys).is_err());
    }
}
