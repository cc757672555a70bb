//! Tensor descriptions, input views over caller memory, and owned outputs.

use std::ffi::c_char;

use ort::sys::ONNXTensorElementDataType as Onnx;
use ort::value::{TensorElementType, ValueType};

/// The element type of a model input or output. Non-tensor values (sequences, maps, optionals)
/// and exotic element types are `Other`, with a descriptive name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ElementType {
    Float32,
    Float64,
    Int32,
    Int64,
    String,
    Bool,
    Uint8,
    Int8,
    Int16,
    Uint16,
    Uint32,
    Uint64,
    Float16,
    Bfloat16,
    Other(&'static str),
}

impl ElementType {
    /// The name JavaScript sees: `float32`, `int64`, `string`, ... (`sequence`, `map`, ... for
    /// non-tensors).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Float32 => "float32",
            Self::Float64 => "float64",
            Self::Int32 => "int32",
            Self::Int64 => "int64",
            Self::String => "string",
            Self::Bool => "bool",
            Self::Uint8 => "uint8",
            Self::Int8 => "int8",
            Self::Int16 => "int16",
            Self::Uint16 => "uint16",
            Self::Uint32 => "uint32",
            Self::Uint64 => "uint64",
            Self::Float16 => "float16",
            Self::Bfloat16 => "bfloat16",
            Self::Other(name) => name,
        }
    }

    /// Whether ortline can feed and return tensors of this type.
    pub const fn is_supported(self) -> bool {
        !matches!(self, Self::Other(_))
    }

    pub(crate) fn from_ort(ty: TensorElementType) -> Self {
        match ty {
            TensorElementType::Float32 => Self::Float32,
            TensorElementType::Float64 => Self::Float64,
            TensorElementType::Int32 => Self::Int32,
            TensorElementType::Int64 => Self::Int64,
            TensorElementType::String => Self::String,
            TensorElementType::Bool => Self::Bool,
            TensorElementType::Uint8 => Self::Uint8,
            TensorElementType::Int8 => Self::Int8,
            TensorElementType::Int16 => Self::Int16,
            TensorElementType::Uint16 => Self::Uint16,
            TensorElementType::Uint32 => Self::Uint32,
            TensorElementType::Uint64 => Self::Uint64,
            TensorElementType::Float16 => Self::Float16,
            TensorElementType::Bfloat16 => Self::Bfloat16,
            TensorElementType::Complex64 => Self::Other("complex64"),
            TensorElementType::Complex128 => Self::Other("complex128"),
            TensorElementType::Float8E4M3FN => Self::Other("float8e4m3fn"),
            TensorElementType::Float8E4M3FNUZ => Self::Other("float8e4m3fnuz"),
            TensorElementType::Float8E5M2 => Self::Other("float8e5m2"),
            TensorElementType::Float8E5M2FNUZ => Self::Other("float8e5m2fnuz"),
            TensorElementType::Uint4 => Self::Other("uint4"),
            TensorElementType::Int4 => Self::Other("int4"),
            _ => Self::Other("unknown"),
        }
    }

    pub(crate) fn from_onnx(ty: Onnx) -> Self {
        Self::from_ort(TensorElementType::from(ty))
    }

    pub(crate) fn to_onnx(self) -> Option<Onnx> {
        Some(match self {
            Self::Float32 => Onnx::ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT,
            Self::Float64 => Onnx::ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE,
            Self::Int32 => Onnx::ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32,
            Self::Int64 => Onnx::ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64,
            Self::String => Onnx::ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING,
            Self::Bool => Onnx::ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL,
            Self::Uint8 => Onnx::ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8,
            Self::Int8 => Onnx::ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8,
            Self::Int16 => Onnx::ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16,
            Self::Uint16 => Onnx::ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16,
            Self::Uint32 => Onnx::ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32,
            Self::Uint64 => Onnx::ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64,
            Self::Float16 => Onnx::ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16,
            Self::Bfloat16 => Onnx::ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16,
            Self::Other(_) => return None,
        })
    }
}

impl std::fmt::Display for ElementType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A model input or output: its name, element type, and shape (`None` for a dynamic dimension).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    pub name: String,
    pub ty: ElementType,
    pub shape: Vec<Option<i64>>,
}

impl TensorInfo {
    pub(crate) fn from_outlet(name: &str, dtype: &ValueType) -> Self {
        let (ty, shape) = match dtype {
            ValueType::Tensor { ty, shape, .. } => (
                ElementType::from_ort(*ty),
                shape.iter().map(|&d| if d < 0 { None } else { Some(d) }).collect(),
            ),
            ValueType::Sequence(_) => (ElementType::Other("sequence"), Vec::new()),
            ValueType::Map { .. } => (ElementType::Other("map"), Vec::new()),
            ValueType::Optional(_) => (ElementType::Other("optional"), Vec::new()),
        };
        Self { name: name.to_owned(), ty, shape }
    }
}

/// A column of strings for a string input, packed as ORT wants them: NUL-terminated, back to
/// back in one buffer. Strings are the one input ortline copies (ORT stores its own copies).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StringColumn {
    bytes: Vec<u8>,
    starts: Vec<usize>,
}

impl StringColumn {
    /// Packs strings. Fails with the index of the first string holding a NUL character, which a
    /// C string (and so an ONNX Runtime string) cannot hold.
    pub fn from_strs<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> std::result::Result<Self, usize> {
        let mut col = Self::default();
        for (i, s) in items.into_iter().enumerate() {
            let s = s.as_ref().as_bytes();
            if s.contains(&0) {
                return Err(i);
            }
            col.starts.push(col.bytes.len());
            col.bytes.extend_from_slice(s);
            col.bytes.push(0);
        }
        Ok(col)
    }

    /// Takes UTF-8 text holding the strings separated by NUL characters (JavaScript's
    /// `strings.join('\0')`) without copying it again. The text holds at least one string, so
    /// an empty column cannot be written this way; a string holding a NUL reads as two.
    pub fn from_nul_separated(mut bytes: Vec<u8>) -> Self {
        let mut starts = Vec::with_capacity(1 + bytes.len() / 8);
        starts.push(0);
        for (i, &b) in bytes.iter().enumerate() {
            if b == 0 {
                starts.push(i + 1);
            }
        }
        bytes.push(0);
        Self { bytes, starts }
    }

    pub fn len(&self) -> usize {
        self.starts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// The whole column as an input.
    pub fn view(&self) -> StringsRef<'_> {
        StringsRef { bytes: &self.bytes, starts: &self.starts }
    }

    /// Strings `range` of the column as an input: several string inputs can share one column.
    pub fn slice(&self, range: std::ops::Range<usize>) -> Option<StringsRef<'_>> {
        Some(StringsRef { bytes: &self.bytes, starts: self.starts.get(range)? })
    }
}

/// Some strings of a [`StringColumn`], borrowed.
#[derive(Debug, Clone, Copy)]
pub struct StringsRef<'a> {
    bytes: &'a [u8],
    starts: &'a [usize],
}

impl StringsRef<'_> {
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// Each string's bytes, without its NUL.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.starts.iter().map(|&s| {
            let rest = &self.bytes[s..];
            // Every string ends in NUL (see StringColumn), so the search always finds one.
            &rest[..rest.iter().position(|&b| b == 0).unwrap_or(rest.len())]
        })
    }

    /// Pointers to each NUL-terminated string, valid while the column is.
    pub(crate) fn pointers_into(&self, out: &mut Vec<*const c_char>) {
        let base = self.bytes.as_ptr();
        out.clear();
        // SAFETY: every start is an index into `bytes`, whose strings all end in NUL.
        out.extend(self.starts.iter().map(|&s| unsafe { base.add(s) }.cast::<c_char>()));
    }
}

/// One input's data, borrowed: numeric columns are handed to ONNX Runtime in place (no copy).
/// Given in the model's input order; its length must be rows x the input's static non-batch dims.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    Float32(&'a [f32]),
    Float64(&'a [f64]),
    Int32(&'a [i32]),
    Int64(&'a [i64]),
    Uint8(&'a [u8]),
    Int8(&'a [i8]),
    Int16(&'a [i16]),
    Uint16(&'a [u16]),
    Uint32(&'a [u32]),
    Uint64(&'a [u64]),
    /// One byte per value, each 0 or 1.
    Bool(&'a [u8]),
    /// IEEE 754 half-precision values as their bit patterns.
    Float16(&'a [u16]),
    /// bfloat16 values as their bit patterns.
    Bfloat16(&'a [u16]),
    String(StringsRef<'a>),
}

/// `element_type`, `len` and `is_empty` for [`Input`] (borrowed) and [`TensorData`] (owned):
/// the two enums have the same variants, so one body serves both.
macro_rules! impl_tensor_accessors {
    ($($ty:tt)+) => {
        impl $($ty)+ {
            pub fn element_type(&self) -> ElementType {
                match self {
                    Self::Float32(_) => ElementType::Float32,
                    Self::Float64(_) => ElementType::Float64,
                    Self::Int32(_) => ElementType::Int32,
                    Self::Int64(_) => ElementType::Int64,
                    Self::Uint8(_) => ElementType::Uint8,
                    Self::Int8(_) => ElementType::Int8,
                    Self::Int16(_) => ElementType::Int16,
                    Self::Uint16(_) => ElementType::Uint16,
                    Self::Uint32(_) => ElementType::Uint32,
                    Self::Uint64(_) => ElementType::Uint64,
                    Self::Bool(_) => ElementType::Bool,
                    Self::Float16(_) => ElementType::Float16,
                    Self::Bfloat16(_) => ElementType::Bfloat16,
                    Self::String(_) => ElementType::String,
                }
            }

            pub fn len(&self) -> usize {
                match self {
                    Self::Float32(d) => d.len(),
                    Self::Float64(d) => d.len(),
                    Self::Int32(d) => d.len(),
                    Self::Int64(d) => d.len(),
                    Self::Uint8(d) | Self::Bool(d) => d.len(),
                    Self::Int8(d) => d.len(),
                    Self::Int16(d) => d.len(),
                    Self::Uint16(d) | Self::Float16(d) | Self::Bfloat16(d) => d.len(),
                    Self::Uint32(d) => d.len(),
                    Self::Uint64(d) => d.len(),
                    Self::String(c) => c.len(),
                }
            }

            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }
        }
    };
}

impl_tensor_accessors!(Input<'_>);

impl Input<'_> {
    /// Pointer and byte length of a numeric view; `None` for strings.
    pub(crate) fn raw_bytes(&self) -> Option<(*const std::ffi::c_void, usize)> {
        fn raw<T>(d: &[T]) -> Option<(*const std::ffi::c_void, usize)> {
            Some((d.as_ptr().cast(), std::mem::size_of_val(d)))
        }
        match self {
            Self::Float32(d) => raw(d),
            Self::Float64(d) => raw(d),
            Self::Int32(d) => raw(d),
            Self::Int64(d) => raw(d),
            Self::Uint8(d) | Self::Bool(d) => raw(d),
            Self::Int8(d) => raw(d),
            Self::Int16(d) => raw(d),
            Self::Uint16(d) | Self::Float16(d) | Self::Bfloat16(d) => raw(d),
            Self::Uint32(d) => raw(d),
            Self::Uint64(d) => raw(d),
            Self::String(_) => None,
        }
    }
}

/// The strings of a string output: all bytes back to back and where each string starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Strings {
    bytes: Vec<u8>,
    offsets: Vec<usize>,
}

impl Strings {
    pub(crate) fn new(bytes: Vec<u8>, offsets: Vec<usize>) -> Self {
        Self { bytes, offsets }
    }

    pub fn len(&self) -> usize {
        self.offsets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    /// The bytes of string `i` (UTF-8 unless the model produced something else).
    pub fn bytes_at(&self, i: usize) -> &[u8] {
        let start = self.offsets[i].min(self.bytes.len());
        let end = self.offsets.get(i + 1).copied().unwrap_or(self.bytes.len()).clamp(start, self.bytes.len());
        &self.bytes[start..end]
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        (0..self.len()).map(|i| self.bytes_at(i))
    }

    /// The strings as owned `String`s (invalid UTF-8 replaced).
    pub fn to_vec(&self) -> Vec<String> {
        self.iter().map(|b| String::from_utf8_lossy(b).into_owned()).collect()
    }
}

/// An output's data, owned (copied once out of ONNX Runtime's buffer).
#[derive(Debug, Clone, PartialEq)]
pub enum TensorData {
    Float32(Vec<f32>),
    Float64(Vec<f64>),
    Int32(Vec<i32>),
    Int64(Vec<i64>),
    Uint8(Vec<u8>),
    Int8(Vec<i8>),
    Int16(Vec<i16>),
    Uint16(Vec<u16>),
    Uint32(Vec<u32>),
    Uint64(Vec<u64>),
    /// One byte per value, 0 or 1.
    Bool(Vec<u8>),
    /// Half-precision bit patterns.
    Float16(Vec<u16>),
    /// bfloat16 bit patterns.
    Bfloat16(Vec<u16>),
    String(Strings),
}

impl_tensor_accessors!(TensorData);

impl TensorData {
    /// Empty data of a type (for zero-row runs).
    pub(crate) fn empty(ty: ElementType) -> Option<Self> {
        Some(match ty {
            ElementType::Float32 => Self::Float32(Vec::new()),
            ElementType::Float64 => Self::Float64(Vec::new()),
            ElementType::Int32 => Self::Int32(Vec::new()),
            ElementType::Int64 => Self::Int64(Vec::new()),
            ElementType::Uint8 => Self::Uint8(Vec::new()),
            ElementType::Int8 => Self::Int8(Vec::new()),
            ElementType::Int16 => Self::Int16(Vec::new()),
            ElementType::Uint16 => Self::Uint16(Vec::new()),
            ElementType::Uint32 => Self::Uint32(Vec::new()),
            ElementType::Uint64 => Self::Uint64(Vec::new()),
            ElementType::Bool => Self::Bool(Vec::new()),
            ElementType::Float16 => Self::Float16(Vec::new()),
            ElementType::Bfloat16 => Self::Bfloat16(Vec::new()),
            ElementType::String => Self::String(Strings::default()),
            ElementType::Other(_) => return None,
        })
    }
}

/// One output of a run: its data and its actual shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub shape: Vec<usize>,
    pub data: TensorData,
}
