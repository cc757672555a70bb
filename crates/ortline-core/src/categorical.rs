//! Specialises a graph so that its categorical inputs take integer codes instead of strings.
//!
//! A string input that feeds only an `ai.onnx.ml` `OneHotEncoder` over `cats_strings` is
//! rewritten to an int64 input feeding the same encoder over `cats_int64s` = 0..k-1, in the
//! encoder's own order: code i stands for the i-th category string. ONNX Runtime then neither
//! copies every string into its own tensor nor looks each one up in a string map, which is most of
//! a tree model's cost. The encoder's output is the same one-hot vector either way, so the graph
//! computes exactly what it did. Anything outside that pattern (another consumer, a subgraph that
//! could see the input, external data the rewritten bytes could not find) keeps its strings.
//!
//! The rewrite edits the protobuf in place: only the messages on the path to a changed field are
//! re-encoded, everything else is copied byte for byte.

use std::collections::HashMap;

/// One input rewritten to codes: its name and its categories, code i being `categories[i]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CodedInput {
    pub name: String,
    pub categories: Vec<String>,
}

/// The rewritten model and the inputs that now take codes.
#[derive(Debug)]
pub(crate) struct Specialised {
    pub bytes: Vec<u8>,
    pub inputs: Vec<CodedInput>,
}

// Field numbers from onnx.proto.
const MODEL_GRAPH: u64 = 7;
const GRAPH_NODE: u64 = 1;
const GRAPH_INITIALIZER: u64 = 5;
const GRAPH_INPUT: u64 = 11;
const GRAPH_OUTPUT: u64 = 12;
const GRAPH_VALUE_INFO: u64 = 13;
const GRAPH_SPARSE_INITIALIZER: u64 = 15;
const NODE_INPUT: u64 = 1;
const NODE_OP_TYPE: u64 = 4;
const NODE_ATTRIBUTE: u64 = 5;
const NODE_DOMAIN: u64 = 7;
const ATTR_NAME: u64 = 1;
const ATTR_G: u64 = 6;
const ATTR_INTS: u64 = 8;
const ATTR_STRINGS: u64 = 9;
const ATTR_GRAPHS: u64 = 11;
const ATTR_TYPE: u64 = 20;
const ATTR_TYPE_INTS: u64 = 7;
const VALUE_INFO_NAME: u64 = 1;
const VALUE_INFO_TYPE: u64 = 2;
const TYPE_TENSOR: u64 = 1;
const TENSOR_TYPE_ELEM: u64 = 1;
const TENSOR_NAME: u64 = 8;
const TENSOR_DATA_LOCATION: u64 = 14;
const DATA_LOCATION_EXTERNAL: u64 = 1;
const ELEM_STRING: u64 = 8;
const ELEM_INT64: u64 = 7;

const WIRE_VARINT: u8 = 0;
const WIRE_LEN: u8 = 2;

/// One field of a message: its number, wire type, the whole encoded field (key included) and,
/// for a varint its value, for a length-delimited field its payload.
#[derive(Debug, Clone, Copy)]
struct Field<'a> {
    num: u64,
    wire: u8,
    whole: &'a [u8],
    value: u64,
    payload: &'a [u8],
}

fn varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *buf.get(*pos)?;
        *pos += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// The fields of one message, or `None` when the bytes are not a well-formed message.
fn fields(buf: &[u8]) -> Option<Vec<Field<'_>>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        let start = pos;
        let key = varint(buf, &mut pos)?;
        let (num, wire) = (key >> 3, (key & 7) as u8);
        let (mut value, mut payload): (u64, &[u8]) = (0, &[]);
        match wire {
            WIRE_VARINT => value = varint(buf, &mut pos)?,
            1 => pos = pos.checked_add(8)?,
            WIRE_LEN => {
                let len = usize::try_from(varint(buf, &mut pos)?).ok()?;
                let end = pos.checked_add(len)?;
                payload = buf.get(pos..end)?;
                pos = end;
            }
            5 => pos = pos.checked_add(4)?,
            _ => return None,
        }
        if pos > buf.len() {
            return None;
        }
        out.push(Field { num, wire, whole: &buf[start..pos], value, payload });
    }
    Some(out)
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_len(out: &mut Vec<u8>, num: u64, payload: &[u8]) {
    put_varint(out, (num << 3) | u64::from(WIRE_LEN));
    put_varint(out, payload.len() as u64);
    out.extend_from_slice(payload);
}

fn put_uint(out: &mut Vec<u8>, num: u64, v: u64) {
    put_varint(out, num << 3);
    put_varint(out, v);
}

/// The payloads of every length-delimited field `num`.
fn strings<'a, 'f>(fs: &'f [Field<'a>], num: u64) -> impl Iterator<Item = &'a [u8]> + 'f {
    fs.iter().filter(move |f| f.num == num && f.wire == WIRE_LEN).map(|f| f.payload)
}

fn first_string<'a>(fs: &[Field<'a>], num: u64) -> Option<&'a [u8]> {
    strings(fs, num).next()
}

/// The single length-delimited field `num`; `None` when it is absent or repeated (protobuf would
/// merge repeats, which this rewrite does not attempt).
fn only<'a>(fs: &[Field<'a>], num: u64) -> Option<&'a [u8]> {
    let mut it = strings(fs, num);
    let one = it.next()?;
    it.next().is_none().then_some(one)
}

/// What a node means to the rewrite.
struct Node<'a> {
    inputs: Vec<&'a [u8]>,
    /// The categories, when this is a one-input `OneHotEncoder` over strings alone.
    string_encoder: Option<Vec<&'a [u8]>>,
}

fn read_node(payload: &[u8]) -> Option<(Node<'_>, bool)> {
    let fs = fields(payload)?;
    let inputs: Vec<&[u8]> = strings(&fs, NODE_INPUT).collect();
    let op = first_string(&fs, NODE_OP_TYPE).unwrap_or_default();
    let domain = first_string(&fs, NODE_DOMAIN).unwrap_or_default();
    let mut has_subgraph = false;
    let mut cats_strings = None;
    let mut cats_int64s = false;
    for attr in strings(&fs, NODE_ATTRIBUTE) {
        let afs = fields(attr)?;
        if afs.iter().any(|f| f.num == ATTR_G || f.num == ATTR_GRAPHS) {
            has_subgraph = true;
        }
        match first_string(&afs, ATTR_NAME).unwrap_or_default() {
            b"cats_strings" => cats_strings = Some(strings(&afs, ATTR_STRINGS).collect::<Vec<_>>()),
            b"cats_int64s" => cats_int64s = afs.iter().any(|f| f.num == ATTR_INTS),
            _ => {}
        }
    }
    let encoder = op == b"OneHotEncoder" && domain == b"ai.onnx.ml" && inputs.len() == 1 && !cats_int64s;
    // ONNX strings are UTF-8; a category that is not could never equal a caller's string anyway.
    let string_encoder = cats_strings.filter(|c| {
        encoder && !c.is_empty() && distinct(c) && c.iter().all(|s| std::str::from_utf8(s).is_ok())
    });
    Some((Node { inputs, string_encoder }, has_subgraph))
}

/// Duplicate categories map differently in the two encoders (last wins for strings); leave them.
fn distinct(cats: &[&[u8]]) -> bool {
    let mut seen = std::collections::HashSet::with_capacity(cats.len());
    cats.iter().all(|c| seen.insert(*c))
}

/// The input's element type, when it is a tensor.
fn input_elem_type(value_info: &[u8]) -> Option<u64> {
    let fs = fields(value_info)?;
    let tfs = fields(only(&fs, VALUE_INFO_TYPE)?)?;
    let tensor = fields(only(&tfs, TYPE_TENSOR)?)?;
    tensor.iter().find(|f| f.num == TENSOR_TYPE_ELEM && f.wire == WIRE_VARINT).map(|f| f.value)
}

/// Rewrites the model, or `None` when no input fits the pattern (or the bytes are not a model
/// this reads; ONNX Runtime then reports the real problem loading the original).
pub(crate) fn specialise(model: &[u8]) -> Option<Specialised> {
    let mfs = fields(model)?;
    let graph = only(&mfs, MODEL_GRAPH)?;
    let gfs = fields(graph)?;
    if gfs.iter().any(|f| f.num == GRAPH_SPARSE_INITIALIZER) {
        return None;
    }
    // Names that must not be a rewritten input: initializers (a default for the input), outputs
    // and value_info (declared types that would then disagree).
    let mut taken: Vec<&[u8]> = Vec::new();
    for init in strings(&gfs, GRAPH_INITIALIZER) {
        let tfs = fields(init)?;
        if tfs.iter().any(|f| f.num == TENSOR_DATA_LOCATION && f.value == DATA_LOCATION_EXTERNAL) {
            // Loaded from memory, the rewritten model could not find its external files.
            return None;
        }
        taken.extend(first_string(&tfs, TENSOR_NAME));
    }
    for vi in strings(&gfs, GRAPH_OUTPUT).chain(strings(&gfs, GRAPH_VALUE_INFO)) {
        taken.extend(first_string(&fields(vi)?, VALUE_INFO_NAME));
    }

    let mut nodes = Vec::new();
    for payload in strings(&gfs, GRAPH_NODE) {
        let (node, has_subgraph) = read_node(payload)?;
        if has_subgraph {
            // A subgraph can read any outer name; proving it does not is not worth it here.
            return None;
        }
        nodes.push(node);
    }
    let mut consumers: HashMap<&[u8], usize> = HashMap::new();
    for node in &nodes {
        for &input in &node.inputs {
            *consumers.entry(input).or_default() += 1;
        }
    }

    // Input name -> index of the encoder node it alone feeds.
    let mut chosen: HashMap<&[u8], usize> = HashMap::new();
    for vi in strings(&gfs, GRAPH_INPUT) {
        let name = first_string(&fields(vi)?, VALUE_INFO_NAME).unwrap_or_default();
        if input_elem_type(vi) != Some(ELEM_STRING)
            || taken.contains(&name)
            || consumers.get(name) != Some(&1)
        {
            continue;
        }
        if let Some(k) = nodes.iter().position(|n| n.inputs[..] == [name] && n.string_encoder.is_some()) {
            chosen.insert(name, k);
        }
    }
    if chosen.is_empty() {
        return None;
    }

    let mut graph_out = Vec::with_capacity(graph.len() + 64);
    let mut inputs = Vec::new();
    let mut node_index = 0;
    for f in &gfs {
        match f.num {
            GRAPH_NODE if f.wire == WIRE_LEN => {
                let k = node_index;
                node_index += 1;
                let node = &nodes[k];
                if node.inputs.len() == 1 && chosen.get(node.inputs[0]) == Some(&k) {
                    put_len(&mut graph_out, GRAPH_NODE, &encoder_over_codes(f.payload)?);
                } else {
                    graph_out.extend_from_slice(f.whole);
                }
            }
            GRAPH_INPUT if f.wire == WIRE_LEN => {
                let name = first_string(&fields(f.payload)?, VALUE_INFO_NAME).unwrap_or_default();
                match chosen.get(name) {
                    Some(&k) => {
                        put_len(&mut graph_out, GRAPH_INPUT, &int64_input(f.payload)?);
                        let categories = nodes[k]
                            .string_encoder
                            .as_ref()?
                            .iter()
                            .map(|c| String::from_utf8(c.to_vec()).ok())
                            .collect::<Option<_>>()?;
                        inputs.push(CodedInput { name: String::from_utf8(name.to_vec()).ok()?, categories });
                    }
                    None => graph_out.extend_from_slice(f.whole),
                }
            }
            _ => graph_out.extend_from_slice(f.whole),
        }
    }

    let mut bytes = Vec::with_capacity(model.len() + 64);
    for f in &mfs {
        if f.num == MODEL_GRAPH {
            put_len(&mut bytes, MODEL_GRAPH, &graph_out);
        } else {
            bytes.extend_from_slice(f.whole);
        }
    }
    Some(Specialised { bytes, inputs })
}

/// The encoder node with `cats_strings` replaced by `cats_int64s` = 0..k-1.
fn encoder_over_codes(node: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(node.len());
    for f in fields(node)? {
        if f.num != NODE_ATTRIBUTE {
            out.extend_from_slice(f.whole);
            continue;
        }
        let afs = fields(f.payload)?;
        match first_string(&afs, ATTR_NAME).unwrap_or_default() {
            b"cats_strings" => {
                let k = strings(&afs, ATTR_STRINGS).count() as u64;
                let mut attr = Vec::with_capacity(16 + 2 * k as usize);
                put_len(&mut attr, ATTR_NAME, b"cats_int64s");
                put_uint(&mut attr, ATTR_TYPE, ATTR_TYPE_INTS);
                for code in 0..k {
                    put_uint(&mut attr, ATTR_INTS, code);
                }
                put_len(&mut out, NODE_ATTRIBUTE, &attr);
            }
            // An empty cats_int64s would sit beside the new one; drop it.
            b"cats_int64s" => {}
            _ => out.extend_from_slice(f.whole),
        }
    }
    Some(out)
}

/// The graph input's ValueInfoProto with its element type set to int64 (its shape kept).
fn int64_input(value_info: &[u8]) -> Option<Vec<u8>> {
    let rewrite = |buf: &[u8], num: u64, inner: &dyn Fn(&[u8]) -> Option<Vec<u8>>| -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(buf.len());
        for f in fields(buf)? {
            if f.num == num && f.wire == WIRE_LEN {
                put_len(&mut out, num, &inner(f.payload)?);
            } else {
                out.extend_from_slice(f.whole);
            }
        }
        Some(out)
    };
    let tensor = |buf: &[u8]| -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(buf.len());
        for f in fields(buf)? {
            if f.num == TENSOR_TYPE_ELEM && f.wire == WIRE_VARINT {
                put_uint(&mut out, TENSOR_TYPE_ELEM, ELEM_INT64);
            } else {
                out.extend_from_slice(f.whole);
            }
        }
        Some(out)
    };
    rewrite(value_info, VALUE_INFO_TYPE, &|t| rewrite(t, TYPE_TENSOR, &tensor))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Hand-built messages, each a list of encoded fields.
    fn msg(parts: &[Vec<u8>]) -> Vec<u8> {
        parts.concat()
    }
    fn s(num: u64, v: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        put_len(&mut out, num, v);
        out
    }
    fn u(num: u64, v: u64) -> Vec<u8> {
        let mut out = Vec::new();
        put_uint(&mut out, num, v);
        out
    }
    fn value_info(name: &str, elem: u64) -> Vec<u8> {
        let dim = s(1, &u(1, 1)); // shape { dim { dim_value: 1 } }
        let tensor = msg(&[u(TENSOR_TYPE_ELEM, elem), s(2, &dim)]);
        msg(&[s(VALUE_INFO_NAME, name.as_bytes()), s(VALUE_INFO_TYPE, &s(TYPE_TENSOR, &tensor))])
    }
    fn input(name: &str, elem: u64) -> Vec<u8> {
        s(GRAPH_INPUT, &value_info(name, elem))
    }
    fn graph_node(inputs: &[&str], output: &str, op: &str, domain: &str, attrs: &[Vec<u8>]) -> Vec<u8> {
        s(GRAPH_NODE, &node(inputs, output, op, domain, attrs))
    }
    fn strings_attr(name: &str, values: &[&str]) -> Vec<u8> {
        let mut parts = vec![s(ATTR_NAME, name.as_bytes()), u(ATTR_TYPE, 8)];
        parts.extend(values.iter().map(|v| s(ATTR_STRINGS, v.as_bytes())));
        msg(&parts)
    }
    fn node(inputs: &[&str], output: &str, op: &str, domain: &str, attrs: &[Vec<u8>]) -> Vec<u8> {
        let mut parts: Vec<Vec<u8>> = inputs.iter().map(|i| s(NODE_INPUT, i.as_bytes())).collect();
        parts.push(s(2, output.as_bytes()));
        parts.push(s(NODE_OP_TYPE, op.as_bytes()));
        parts.push(s(NODE_DOMAIN, domain.as_bytes()));
        parts.extend(attrs.iter().map(|a| s(NODE_ATTRIBUTE, a)));
        msg(&parts)
    }
    fn encoder(input: &str, cats: &[&str]) -> Vec<u8> {
        let zeros = msg(&[s(ATTR_NAME, b"zeros"), u(ATTR_TYPE, 2), u(3, 1)]);
        graph_node(
            &[input],
            &format!("{input}_1h"),
            "OneHotEncoder",
            "ai.onnx.ml",
            &[strings_attr("cats_strings", cats), zeros],
        )
    }
    fn model(graph: &[Vec<u8>]) -> Vec<u8> {
        msg(&[u(1, 8), s(2, b"test"), s(MODEL_GRAPH, &msg(graph)), s(14, b"kept")])
    }

    fn attr_named<'a>(node: &'a [u8], name: &[u8]) -> Option<Vec<Field<'a>>> {
        let fs = fields(node)?;
        let found = strings(&fs, NODE_ATTRIBUTE)
            .map(|a| fields(a).unwrap())
            .find(|a| first_string(a, ATTR_NAME) == Some(name));
        found
    }

    #[test]
    fn rewrites_a_string_input_feeding_only_a_one_hot_encoder() {
        let bytes = model(&[
            encoder("colour", &["red", "green", "blue"]),
            graph_node(&["colour_1h", "n"], "y", "Concat", "", &[]),
            input("colour", ELEM_STRING),
            input("n", 1),
            s(GRAPH_OUTPUT, &value_info("y", 1)),
        ]);
        let out = specialise(&bytes).expect("rewritten");
        assert_eq!(
            out.inputs,
            vec![CodedInput {
                name: "colour".into(),
                categories: vec!["red".into(), "green".into(), "blue".into()]
            }]
        );
        let mfs = fields(&out.bytes).unwrap();
        // Fields outside the graph are kept byte for byte, in order.
        let nums: Vec<u64> = mfs.iter().map(|f| f.num).collect();
        assert_eq!(nums, [1, 2, MODEL_GRAPH, 14]);
        assert_eq!(first_string(&mfs, 14), Some(&b"kept"[..]));
        let gfs = fields(only(&mfs, MODEL_GRAPH).unwrap()).unwrap();
        let nodes: Vec<&[u8]> = strings(&gfs, GRAPH_NODE).collect();
        assert!(attr_named(nodes[0], b"cats_strings").is_none());
        let ints = attr_named(nodes[0], b"cats_int64s").unwrap();
        assert_eq!(ints.iter().find(|f| f.num == ATTR_TYPE).unwrap().value, ATTR_TYPE_INTS);
        let codes: Vec<u64> = ints.iter().filter(|f| f.num == ATTR_INTS).map(|f| f.value).collect();
        assert_eq!(codes, [0, 1, 2]);
        assert!(attr_named(nodes[0], b"zeros").is_some(), "other attributes are kept");
        assert_eq!(nodes[1], &node(&["colour_1h", "n"], "y", "Concat", "", &[])[..]);
        let elems: Vec<Option<u64>> = strings(&gfs, GRAPH_INPUT).map(input_elem_type).collect();
        assert_eq!(elems, [Some(ELEM_INT64), Some(1)]);
        // Nothing is left to rewrite.
        assert!(specialise(&out.bytes).is_none());
    }

    #[test]
    fn leaves_inputs_outside_the_pattern_alone() {
        let with = |extra: Vec<Vec<u8>>, cats: &[&str]| {
            let mut graph = vec![encoder("c", cats), input("c", ELEM_STRING)];
            graph.extend(extra);
            specialise(&model(&graph)).map(|o| o.inputs.len())
        };
        assert_eq!(with(vec![], &["a", "b"]), Some(1));
        // A second consumer would get codes it does not understand.
        assert_eq!(with(vec![graph_node(&["c"], "c2", "Identity", "", &[])], &["a", "b"]), None);
        // The input is also an output, or has a declared value type, or an initializer default.
        assert_eq!(with(vec![s(GRAPH_OUTPUT, &value_info("c", ELEM_STRING))], &["a", "b"]), None);
        assert_eq!(with(vec![s(GRAPH_VALUE_INFO, &value_info("c", ELEM_STRING))], &["a", "b"]), None);
        assert_eq!(with(vec![s(GRAPH_INITIALIZER, &s(TENSOR_NAME, b"c"))], &["a", "b"]), None);
        // Duplicate categories map to different positions in the two encoders.
        assert_eq!(with(vec![], &["a", "b", "a"]), None);
        // A subgraph anywhere could read the input.
        let sub = msg(&[s(ATTR_NAME, b"then_branch"), u(ATTR_TYPE, 5), s(ATTR_G, b"")]);
        assert_eq!(with(vec![graph_node(&["x"], "y", "If", "", &[sub])], &["a", "b"]), None);
        // External data would not be found from memory.
        let ext = msg(&[s(TENSOR_NAME, b"w"), u(TENSOR_DATA_LOCATION, DATA_LOCATION_EXTERNAL)]);
        assert_eq!(with(vec![s(GRAPH_INITIALIZER, &ext)], &["a", "b"]), None);
        // A numeric input, or an encoder from another domain, is not this pattern.
        let numeric = model(&[encoder("c", &["a"]), input("c", 1)]);
        assert!(specialise(&numeric).is_none());
        let cats = strings_attr("cats_strings", &["a"]);
        let other =
            model(&[graph_node(&["c"], "o", "OneHotEncoder", "custom", &[cats]), input("c", ELEM_STRING)]);
        assert!(specialise(&other).is_none());
    }

    #[test]
    fn malformed_bytes_are_left_to_onnx_runtime() {
        assert!(specialise(b"").is_none());
        assert!(specialise(b"not a model at all").is_none());
        let good = model(&[encoder("c", &["a", "b"]), input("c", ELEM_STRING)]);
        for cut in [1, good.len() / 2, good.len() - 1] {
            assert!(specialise(&good[..cut]).is_none(), "cut at {cut}");
        }
    }

    #[test]
    fn the_churn_model_gets_codes_for_its_fifteen_categorical_inputs() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/churn/1/model.onnx");
        let bytes = std::fs::read(path).expect("the bundled churn model");
        let out = specialise(&bytes).expect("rewritten");
        assert_eq!(out.inputs.len(), 15);
        let gender = out.inputs.iter().find(|i| i.name == "gender").unwrap();
        assert_eq!(gender.categories, ["Female", "Male"]);
        assert!(out.inputs.iter().all(
            |i| !["tenure", "MonthlyCharges", "TotalCharges", "SeniorCitizen"].contains(&i.name.as_str())
        ));
    }
}
