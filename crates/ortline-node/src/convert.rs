//! JavaScript values <-> core types for runs: feeds in (pinned typed arrays, packed strings),
//! outputs out (typed arrays over the Rust buffers), and errors.

use std::ops::Range;
use std::ptr;

use napi::bindgen_prelude::*;
use napi::sys;
use ortline_core::{ElementType, ErrorCode, Input, Model, Output, StringColumn, TensorData};

use crate::error::{check, to_js};

/// The feeds array as JS gave it; converted once the model's input types are at hand.
pub struct JsFeeds {
    env: sys::napi_env,
    array: sys::napi_value,
}

impl TypeName for JsFeeds {
    fn type_name() -> &'static str {
        "Array"
    }

    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ValidateNapiValue for JsFeeds {}

impl FromNapiValue for JsFeeds {
    unsafe fn from_napi_value(env: sys::napi_env, array: sys::napi_value) -> Result<Self> {
        let mut is_array = false;
        check(unsafe { sys::napi_is_array(env, array, &mut is_array) }, "napi_is_array")?;
        if !is_array {
            return Err(to_js(
                env,
                &ortline_core::Error::new(
                    ErrorCode::MissingInput,
                    "feeds must be an array, one entry per model input in the model's order",
                ),
            ));
        }
        Ok(Self { env, array })
    }
}

/// One input's data, kept alive for an async run: typed arrays hold a reference to the JS array
/// (its memory is read in place, never copied); a string input is a range of the run's packed
/// string column.
pub enum PinnedFeed {
    Float32(Float32Array),
    Float64(Float64Array),
    Int32(Int32Array),
    Int64(BigInt64Array),
    Uint8(Uint8Array),
    Int8(Int8Array),
    Int16(Int16Array),
    Uint16(Uint16Array),
    Uint32(Uint32Array),
    Uint64(BigUint64Array),
    Bool(Uint8Array),
    Float16(Uint16Array),
    Bfloat16(Uint16Array),
    String(Range<usize>),
    /// A string input fed as codes: a range of the run's codes buffer.
    Codes(Range<usize>),
}

impl PinnedFeed {
    pub fn as_input<'a>(&'a self, strings: &'a StringColumn, codes: &'a [i64]) -> Input<'a> {
        match self {
            Self::Float32(a) => Input::Float32(a),
            Self::Float64(a) => Input::Float64(a),
            Self::Int32(a) => Input::Int32(a),
            Self::Int64(a) => Input::Int64(a),
            Self::Uint8(a) => Input::Uint8(a),
            Self::Int8(a) => Input::Int8(a),
            Self::Int16(a) => Input::Int16(a),
            Self::Uint16(a) => Input::Uint16(a),
            Self::Uint32(a) => Input::Uint32(a),
            Self::Uint64(a) => Input::Uint64(a),
            Self::Bool(a) => Input::Bool(a),
            Self::Float16(a) => Input::Float16(a),
            Self::Bfloat16(a) => Input::Bfloat16(a),
            // Ranges were cut from this column's length.
            Self::String(r) => Input::String(strings.slice(r.clone()).unwrap_or(strings.view())),
            Self::Codes(r) => Input::Int64(codes.get(r.clone()).unwrap_or(codes)),
        }
    }
}

/// What a JS value is, for messages: its typed array class, `an array`, or its `typeof`.
fn describe(env: sys::napi_env, value: sys::napi_value) -> String {
    let mut is_typed = false;
    // SAFETY: plain napi queries on a live handle; failures fall through to the next question.
    if unsafe { sys::napi_is_typedarray(env, value, &mut is_typed) } == sys::Status::napi_ok && is_typed {
        let mut kind = 0;
        let status = unsafe {
            sys::napi_get_typedarray_info(
                env,
                value,
                &mut kind,
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        let class = match TypedArrayType::from(kind) {
            _ if status != sys::Status::napi_ok => "a typed array",
            TypedArrayType::Int8 => "Int8Array",
            TypedArrayType::Uint8 => "Uint8Array",
            TypedArrayType::Uint8Clamped => "Uint8ClampedArray",
            TypedArrayType::Int16 => "Int16Array",
            TypedArrayType::Uint16 => "Uint16Array",
            TypedArrayType::Int32 => "Int32Array",
            TypedArrayType::Uint32 => "Uint32Array",
            TypedArrayType::Float32 => "Float32Array",
            TypedArrayType::Float64 => "Float64Array",
            TypedArrayType::BigInt64 => "BigInt64Array",
            TypedArrayType::BigUint64 => "BigUint64Array",
            _ => "a typed array",
        };
        return class.to_owned();
    }
    let mut is_array = false;
    if unsafe { sys::napi_is_array(env, value, &mut is_array) } == sys::Status::napi_ok && is_array {
        return "an array".to_owned();
    }
    let mut t = 0;
    if unsafe { sys::napi_typeof(env, value, &mut t) } != sys::Status::napi_ok {
        return "something else".to_owned();
    }
    match t {
        sys::ValueType::napi_undefined => "undefined",
        sys::ValueType::napi_null => "null",
        sys::ValueType::napi_boolean => "a boolean",
        sys::ValueType::napi_number => "a number",
        sys::ValueType::napi_string => "a string",
        sys::ValueType::napi_bigint => "a bigint",
        _ => "an object",
    }
    .to_owned()
}

/// The JS class a feed of this element type must be.
pub(crate) fn js_class(ty: ElementType) -> &'static str {
    match ty {
        ElementType::Float32 => "Float32Array",
        ElementType::Float64 => "Float64Array",
        ElementType::Int32 => "Int32Array",
        ElementType::Int64 => "BigInt64Array",
        ElementType::Uint8 | ElementType::Bool => "Uint8Array",
        ElementType::Int8 => "Int8Array",
        ElementType::Int16 => "Int16Array",
        ElementType::Uint16 | ElementType::Float16 | ElementType::Bfloat16 => "Uint16Array",
        ElementType::Uint32 => "Uint32Array",
        ElementType::Uint64 => "BigUint64Array",
        ElementType::String => "string",
        ElementType::Other(_) => "nothing",
    }
}

fn typed_array_type(ty: ElementType) -> Option<TypedArrayType> {
    Some(match ty {
        ElementType::Float32 => TypedArrayType::Float32,
        ElementType::Float64 => TypedArrayType::Float64,
        ElementType::Int32 => TypedArrayType::Int32,
        ElementType::Int64 => TypedArrayType::BigInt64,
        ElementType::Uint8 | ElementType::Bool => TypedArrayType::Uint8,
        ElementType::Int8 => TypedArrayType::Int8,
        ElementType::Int16 => TypedArrayType::Int16,
        ElementType::Uint16 | ElementType::Float16 | ElementType::Bfloat16 => TypedArrayType::Uint16,
        ElementType::Uint32 => TypedArrayType::Uint32,
        ElementType::Uint64 => TypedArrayType::BigUint64,
        ElementType::String | ElementType::Other(_) => return None,
    })
}

struct Args<'m> {
    env: sys::napi_env,
    model: &'m Model,
    types: &'m [ElementType],
    /// Inputs whose values come as codes in the run's codes buffer (their entry is a count).
    coded: &'m [bool],
    array: sys::napi_value,
}

impl<'m> Args<'m> {
    fn new(feeds: JsFeeds, model: &'m Model, types: &'m [ElementType], coded: &'m [bool]) -> Result<Self> {
        let env = feeds.env;
        let mut len = 0u32;
        check(unsafe { sys::napi_get_array_length(env, feeds.array, &mut len) }, "napi_get_array_length")?;
        let inputs = model.inputs();
        let len = len as usize;
        if len < inputs.len() {
            return Err(to_js(
                env,
                &ortline_core::Error::new(
                    ErrorCode::MissingInput,
                    format!(
                        "input \"{}\" is missing: the model takes {} inputs, {len} were given",
                        inputs[len].name,
                        inputs.len()
                    ),
                )
                .with("input", inputs[len].name.as_str()),
            ));
        }
        if len > inputs.len() {
            return Err(to_js(
                env,
                &ortline_core::Error::new(
                    ErrorCode::UnknownInput,
                    format!("{len} inputs were given, but the model takes {}", inputs.len()),
                )
                .with("expected", inputs.len())
                .with("got", len),
            ));
        }
        Ok(Self { env, model, types, coded, array: feeds.array })
    }

    fn element(&self, i: usize) -> Result<sys::napi_value> {
        let mut value = ptr::null_mut();
        check(
            unsafe { sys::napi_get_element(self.env, self.array, i as u32, &mut value) },
            "napi_get_element",
        )?;
        Ok(value)
    }

    fn mismatch(&self, i: usize, value: sys::napi_value) -> Error {
        let ty = self.types[i];
        let name = &self.model.inputs()[i].name;
        let got = describe(self.env, value);
        to_js(
            self.env,
            &ortline_core::Error::new(
                ErrorCode::InputTypeMismatch,
                format!("input \"{name}\" expects {ty} ({}), got {got}", js_class(ty)),
            )
            .with("input", name.as_str())
            .with("expected", ty.as_str())
            .with("got", got),
        )
    }

    fn unsupported(&self, i: usize) -> Error {
        let name = &self.model.inputs()[i].name;
        to_js(
            self.env,
            &ortline_core::Error::new(
                ErrorCode::UnsupportedInput,
                format!("input \"{name}\" has type {}, which ortline cannot feed", self.types[i]),
            )
            .with("input", name.as_str()),
        )
    }

    /// The count a string (or coded) input's entry gives: how many of the packed values are its own.
    fn string_count(&self, i: usize) -> Result<usize> {
        let value = self.element(i)?;
        let mut n = 0u32;
        if unsafe { sys::napi_get_value_uint32(self.env, value, &mut n) } != sys::Status::napi_ok {
            let name = &self.model.inputs()[i].name;
            return Err(to_js(
                self.env,
                &ortline_core::Error::new(
                    ErrorCode::InputTypeMismatch,
                    format!("input \"{name}\" is a string input: its entry must be the count of its values"),
                )
                .with("input", name.as_str()),
            ));
        }
        Ok(n as usize)
    }

    /// Cuts one packed buffer among the inputs `packs` picks, in input order, each by the count
    /// its entry gives; returns the ranges (None for every other input) and the values they add
    /// up to, for the caller to check against the buffer.
    fn packed(&self, packs: impl Fn(usize) -> bool) -> Result<(Vec<Option<Range<usize>>>, usize)> {
        let mut at = 0usize;
        let mut ranges = Vec::with_capacity(self.types.len());
        for i in 0..self.types.len() {
            if !packs(i) {
                ranges.push(None);
                continue;
            }
            let n = self.string_count(i)?;
            ranges.push(Some(at..at.saturating_add(n)));
            at = at.saturating_add(n);
        }
        Ok((ranges, at))
    }

    /// Splits the packed string column among the string inputs, each by the count its entry gives
    /// (the core then checks each count against the input's plan, naming the input).
    fn string_ranges(&self, strings: &StringColumn) -> Result<Vec<Option<Range<usize>>>> {
        let (ranges, at) = self.packed(|i| self.types[i] == ElementType::String && !self.coded[i])?;
        let any = ranges.iter().any(Option::is_some);
        if any && at != strings.len() {
            // More joined values than the counts say: a value holds a NUL (the scorer finds which
            // by `reason`). Fewer: the caller packed the strings wrongly.
            let (reason, why) = if strings.len() > at {
                (
                    "nul_in_string",
                    "a value holding a NUL character, which ONNX Runtime strings cannot hold, reads as two",
                )
            } else {
                ("count_mismatch", "the counts and the joined strings disagree")
            };
            let message =
                format!("the string inputs hold {at} values, the joined strings {} ({why})", strings.len());
            let e = ortline_core::Error::new(ErrorCode::InputTypeMismatch, message)
                .with("reason", reason)
                .with("expected", at)
                .with("got", strings.len());
            return Err(to_js(self.env, &e));
        }
        Ok(ranges)
    }

    /// Splits the codes buffer among the coded inputs, each by the count its entry gives.
    fn code_ranges(&self, codes: usize) -> Result<Vec<Option<Range<usize>>>> {
        let (ranges, at) = self.packed(|i| self.coded[i])?;
        if at > codes {
            // The JS layer packs the codes itself: this is a bug there, not a caller's mistake.
            let e = ortline_core::Error::new(
                ErrorCode::InputTypeMismatch,
                format!("the coded inputs hold {at} values, the codes buffer {codes}"),
            )
            .with("reason", "count_mismatch")
            .with("expected", at)
            .with("got", codes);
            return Err(to_js(self.env, &e));
        }
        Ok(ranges)
    }

    /// Async runs: pins each typed array (a reference keeps it alive until the task drops).
    fn pin(&self, strings: &StringColumn, codes: usize) -> Result<Vec<PinnedFeed>> {
        let env = self.env;
        let ranges = self.string_ranges(strings)?;
        let coded = self.code_ranges(codes)?;
        let mut feeds = Vec::with_capacity(self.types.len());
        for (i, ((&ty, range), coded)) in self.types.iter().zip(ranges).zip(coded).enumerate() {
            if let Some(range) = range {
                feeds.push(PinnedFeed::String(range));
                continue;
            }
            if let Some(range) = coded {
                feeds.push(PinnedFeed::Codes(range));
                continue;
            }
            let value = self.element(i)?;
            let bad = |_| self.mismatch(i, value);
            // SAFETY: `value` is a live handle in this call's scope; each conversion checks the
            // JS type and fails (without side effects) on a mismatch.
            let feed = unsafe {
                match ty {
                    ElementType::Float32 => {
                        PinnedFeed::Float32(Float32Array::from_napi_value(env, value).map_err(bad)?)
                    }
                    ElementType::Float64 => {
                        PinnedFeed::Float64(Float64Array::from_napi_value(env, value).map_err(bad)?)
                    }
                    ElementType::Int32 => {
                        PinnedFeed::Int32(Int32Array::from_napi_value(env, value).map_err(bad)?)
                    }
                    ElementType::Int64 => {
                        PinnedFeed::Int64(BigInt64Array::from_napi_value(env, value).map_err(bad)?)
                    }
                    ElementType::Uint8 => {
                        PinnedFeed::Uint8(Uint8Array::from_napi_value(env, value).map_err(bad)?)
                    }
                    ElementType::Bool => {
                        PinnedFeed::Bool(Uint8Array::from_napi_value(env, value).map_err(bad)?)
                    }
                    ElementType::Int8 => {
                        PinnedFeed::Int8(Int8Array::from_napi_value(env, value).map_err(bad)?)
                    }
                    ElementType::Int16 => {
                        PinnedFeed::Int16(Int16Array::from_napi_value(env, value).map_err(bad)?)
                    }
                    ElementType::Uint16 => {
                        PinnedFeed::Uint16(Uint16Array::from_napi_value(env, value).map_err(bad)?)
                    }
                    ElementType::Float16 => {
                        PinnedFeed::Float16(Uint16Array::from_napi_value(env, value).map_err(bad)?)
                    }
                    ElementType::Bfloat16 => {
                        PinnedFeed::Bfloat16(Uint16Array::from_napi_value(env, value).map_err(bad)?)
                    }
                    ElementType::Uint32 => {
                        PinnedFeed::Uint32(Uint32Array::from_napi_value(env, value).map_err(bad)?)
                    }
                    ElementType::Uint64 => {
                        PinnedFeed::Uint64(BigUint64Array::from_napi_value(env, value).map_err(bad)?)
                    }
                    ElementType::String | ElementType::Other(_) => return Err(self.unsupported(i)),
                }
            };
            feeds.push(feed);
        }
        Ok(feeds)
    }

    /// Sync runs: views straight over each typed array's memory, no reference (JS cannot run,
    /// so nothing can collect or detach the buffers, until the call returns).
    fn borrow<'s>(&self, strings: &'s StringColumn, codes: &'s [i64]) -> Result<Vec<Input<'s>>> {
        let ranges = self.string_ranges(strings)?;
        let coded = self.code_ranges(codes.len())?;
        let mut inputs = Vec::with_capacity(self.types.len());
        for (i, ((&ty, range), coded)) in self.types.iter().zip(ranges).zip(coded).enumerate() {
            if let Some(range) = range {
                inputs.push(Input::String(strings.slice(range).unwrap_or(strings.view())));
                continue;
            }
            if let Some(range) = coded {
                // Ranges were checked against the buffer's length.
                inputs.push(Input::Int64(codes.get(range).unwrap_or(codes)));
                continue;
            }
            let want = typed_array_type(ty).ok_or_else(|| self.unsupported(i))?;
            let value = self.element(i)?;
            let mut kind = 0;
            let mut length = 0usize;
            let mut data: *mut std::ffi::c_void = ptr::null_mut();
            let status = unsafe {
                sys::napi_get_typedarray_info(
                    self.env,
                    value,
                    &mut kind,
                    &mut length,
                    &mut data,
                    ptr::null_mut(),
                    ptr::null_mut(),
                )
            };
            if status != sys::Status::napi_ok || kind != want as i32 {
                return Err(self.mismatch(i, value));
            }
            // SAFETY: napi reports `length` elements of the checked type at `data` (null only
            // for an empty or detached array); the memory outlives this synchronous call.
            unsafe fn view<'v, T>(data: *mut std::ffi::c_void, length: usize) -> &'v [T] {
                if data.is_null() || length == 0 {
                    &[]
                } else {
                    unsafe { std::slice::from_raw_parts(data.cast::<T>(), length) }
                }
            }
            let input = unsafe {
                match ty {
                    ElementType::Float32 => Input::Float32(view(data, length)),
                    ElementType::Float64 => Input::Float64(view(data, length)),
                    ElementType::Int32 => Input::Int32(view(data, length)),
                    ElementType::Int64 => Input::Int64(view(data, length)),
                    ElementType::Uint8 => Input::Uint8(view(data, length)),
                    ElementType::Bool => Input::Bool(view(data, length)),
                    ElementType::Int8 => Input::Int8(view(data, length)),
                    ElementType::Int16 => Input::Int16(view(data, length)),
                    ElementType::Uint16 => Input::Uint16(view(data, length)),
                    ElementType::Float16 => Input::Float16(view(data, length)),
                    ElementType::Bfloat16 => Input::Bfloat16(view(data, length)),
                    ElementType::Uint32 => Input::Uint32(view(data, length)),
                    ElementType::Uint64 => Input::Uint64(view(data, length)),
                    ElementType::String | ElementType::Other(_) => return Err(self.unsupported(i)),
                }
            };
            inputs.push(input);
        }
        Ok(inputs)
    }
}

impl JsFeeds {
    pub fn pin(
        self,
        model: &Model,
        types: &[ElementType],
        coded: &[bool],
        strings: &StringColumn,
        codes: usize,
    ) -> Result<Vec<PinnedFeed>> {
        Args::new(self, model, types, coded)?.pin(strings, codes)
    }

    pub fn borrow<'s>(
        self,
        model: &Model,
        types: &[ElementType],
        coded: &[bool],
        strings: &'s StringColumn,
        codes: &'s [i64],
    ) -> Result<Vec<Input<'s>>> {
        Args::new(self, model, types, coded)?.borrow(strings, codes)
    }
}

/// Every string input's values in one JS string, in input order, joined by NUL: one UTF-8 copy
/// out of V8 and no per-value allocation. Absent (undefined/null) when the model has none.
pub struct JoinedStrings(pub StringColumn);

impl TypeName for JoinedStrings {
    fn type_name() -> &'static str {
        "string"
    }

    fn value_type() -> ValueType {
        ValueType::String
    }
}

impl ValidateNapiValue for JoinedStrings {}

impl FromNapiValue for JoinedStrings {
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> Result<Self> {
        let mut t = 0;
        check(unsafe { sys::napi_typeof(env, value, &mut t) }, "napi_typeof")?;
        if t == sys::ValueType::napi_undefined || t == sys::ValueType::napi_null {
            return Ok(Self(StringColumn::default()));
        }
        let mut len = 0usize;
        if unsafe { sys::napi_get_value_string_utf8(env, value, ptr::null_mut(), 0, &mut len) }
            != sys::Status::napi_ok
        {
            return Err(to_js(
                env,
                &ortline_core::Error::new(
                    ErrorCode::InputTypeMismatch,
                    "the string inputs must come as one string",
                ),
            ));
        }
        // Room for the terminating NUL napi writes, which the column keeps as its last terminator.
        let mut bytes = Vec::<u8>::with_capacity(len + 1);
        let mut written = 0usize;
        check(
            unsafe {
                sys::napi_get_value_string_utf8(env, value, bytes.as_mut_ptr().cast(), len + 1, &mut written)
            },
            "napi_get_value_string_utf8",
        )?;
        // SAFETY: napi wrote `written` bytes (<= len) of UTF-8 into the buffer.
        unsafe { bytes.set_len(written) };
        Ok(Self(StringColumn::from_nul_separated(bytes)))
    }
}

/// A run's outputs for JS: `[data0, shape0, data1, shape1, ..., micros]`. Numeric data becomes
/// typed arrays over the Rust `Vec`s themselves (external array buffers, freed by V8's GC),
/// strings become a `string[]`, shapes `number[]`; last, how long the core's run took, in
/// microseconds (what the scorer predicts a run's cost from).
pub struct RunOutputs {
    pub outputs: Vec<Output>,
    pub micros: f64,
}

impl TypeName for RunOutputs {
    fn type_name() -> &'static str {
        "Array"
    }

    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ToNapiValue for RunOutputs {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        let mut array = ptr::null_mut();
        check(
            unsafe { sys::napi_create_array_with_length(env, val.outputs.len() * 2 + 1, &mut array) },
            "napi_create_array_with_length",
        )?;
        let last = val.outputs.len() * 2;
        for (i, out) in val.outputs.into_iter().enumerate() {
            let shape = unsafe { shape_array(env, &out.shape)? };
            let data = unsafe { data_value(env, out.data)? };
            check(unsafe { sys::napi_set_element(env, array, (2 * i) as u32, data) }, "napi_set_element")?;
            check(
                unsafe { sys::napi_set_element(env, array, (2 * i + 1) as u32, shape) },
                "napi_set_element",
            )?;
        }
        let mut micros = ptr::null_mut();
        check(unsafe { sys::napi_create_double(env, val.micros, &mut micros) }, "napi_create_double")?;
        check(unsafe { sys::napi_set_element(env, array, last as u32, micros) }, "napi_set_element")?;
        Ok(array)
    }
}

unsafe fn shape_array(env: sys::napi_env, shape: &[usize]) -> Result<sys::napi_value> {
    let mut array = ptr::null_mut();
    check(
        unsafe { sys::napi_create_array_with_length(env, shape.len(), &mut array) },
        "napi_create_array_with_length",
    )?;
    for (i, &d) in shape.iter().enumerate() {
        let mut n = ptr::null_mut();
        check(unsafe { sys::napi_create_double(env, d as f64, &mut n) }, "napi_create_double")?;
        check(unsafe { sys::napi_set_element(env, array, i as u32, n) }, "napi_set_element")?;
    }
    Ok(array)
}

/// Outputs up to this many bytes are copied into a V8-owned buffer: for a few bytes the copy
/// costs less than an external buffer's bookkeeping (a backing-store registration and a GC
/// finalizer per buffer). Larger outputs are handed over without a copy.
const COPY_MAX_BYTES: usize = 4096;

/// A typed array of `kind` holding a copy of `data` (for small outputs).
unsafe fn copied<T: Copy>(env: sys::napi_env, kind: TypedArrayType, data: &[T]) -> Result<sys::napi_value> {
    let bytes = std::mem::size_of_val(data);
    let mut buffer_data: *mut std::ffi::c_void = ptr::null_mut();
    let mut buffer = ptr::null_mut();
    check(
        unsafe { sys::napi_create_arraybuffer(env, bytes, &mut buffer_data, &mut buffer) },
        "napi_create_arraybuffer",
    )?;
    if bytes > 0 {
        // SAFETY: V8 just allocated `bytes` bytes at `buffer_data`.
        unsafe { ptr::copy_nonoverlapping(data.as_ptr().cast::<u8>(), buffer_data.cast::<u8>(), bytes) };
    }
    let mut array = ptr::null_mut();
    check(
        unsafe { sys::napi_create_typedarray(env, kind as i32, data.len(), buffer, 0, &mut array) },
        "napi_create_typedarray",
    )?;
    Ok(array)
}

unsafe fn data_value(env: sys::napi_env, data: TensorData) -> Result<sys::napi_value> {
    macro_rules! typed {
        ($v:expr, $class:ident, $kind:expr) => {{
            let v = $v;
            if std::mem::size_of_val(&v[..]) <= COPY_MAX_BYTES {
                copied(env, $kind, &v)
            } else {
                // `new(vec)` hands the Vec's allocation to V8 as an external buffer: no copy.
                $class::to_napi_value(env, $class::new(v))
            }
        }};
    }
    unsafe {
        match data {
            TensorData::Float32(v) => typed!(v, Float32Array, TypedArrayType::Float32),
            TensorData::Float64(v) => typed!(v, Float64Array, TypedArrayType::Float64),
            TensorData::Int32(v) => typed!(v, Int32Array, TypedArrayType::Int32),
            TensorData::Int64(v) => typed!(v, BigInt64Array, TypedArrayType::BigInt64),
            TensorData::Uint8(v) | TensorData::Bool(v) => typed!(v, Uint8Array, TypedArrayType::Uint8),
            TensorData::Int8(v) => typed!(v, Int8Array, TypedArrayType::Int8),
            TensorData::Int16(v) => typed!(v, Int16Array, TypedArrayType::Int16),
            TensorData::Uint16(v) | TensorData::Float16(v) | TensorData::Bfloat16(v) => {
                typed!(v, Uint16Array, TypedArrayType::Uint16)
            }
            TensorData::Uint32(v) => typed!(v, Uint32Array, TypedArrayType::Uint32),
            TensorData::Uint64(v) => typed!(v, BigUint64Array, TypedArrayType::BigUint64),
            TensorData::String(s) => {
                let mut array = ptr::null_mut();
                check(
                    sys::napi_create_array_with_length(env, s.len(), &mut array),
                    "napi_create_array_with_length",
                )?;
                for (i, bytes) in s.iter().enumerate() {
                    let mut js = ptr::null_mut();
                    // napi replaces invalid UTF-8 rather than failing.
                    check(
                        sys::napi_create_string_utf8(
                            env,
                            bytes.as_ptr().cast(),
                            bytes.len() as isize,
                            &mut js,
                        ),
                        "napi_create_string_utf8",
                    )?;
                    check(sys::napi_set_element(env, array, i as u32, js), "napi_set_element")?;
                }
                Ok(array)
            }
        }
    }
}
