//! The one input contract: for each input of a model, how it is fed (its element type, where its
//! batch dimension comes from, its static non-batch dimensions) and how many values it takes for
//! a number of rows. Built once at load from the model's signature; the run checks feeds against
//! it, and the bindings export it so that the layers above read it instead of restating it.

use crate::error::{Error, ErrorCode, Result};
use crate::tensor::{ElementType, TensorInfo};

/// The most rows one run takes: what every binding can pass (napi's u32), far below the i64 that
/// ONNX Runtime's dimensions hold.
pub const MAX_ROWS: usize = u32::MAX as usize;

/// Where an input's batch dimension comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Batch {
    /// Rank 0: one value, no rows.
    Scalar,
    /// The first dimension is the row count.
    Rows,
    /// The first dimension is fixed; rows must equal it.
    Fixed(i64),
}

/// How one input is fed.
#[derive(Debug, Clone)]
pub struct InputPlan {
    pub name: String,
    pub ty: ElementType,
    pub batch: Batch,
    /// Static non-batch dims, or why the input cannot be fed.
    tail: std::result::Result<Vec<i64>, String>,
    /// Values per row: the product of the static non-batch dims.
    pub width: usize,
}

impl InputPlan {
    pub fn new(info: &TensorInfo) -> Self {
        let mut tail = Ok(Vec::with_capacity(info.shape.len().saturating_sub(1)));
        if !info.ty.is_supported() {
            tail = Err(format!("has type {}, which ortline cannot feed", info.ty));
        }
        let batch = match info.shape.first() {
            None => Batch::Scalar,
            Some(None) => Batch::Rows,
            Some(Some(n)) => Batch::Fixed(*n),
        };
        let mut width = 1usize;
        if let Ok(t) = tail.as_mut() {
            for (i, d) in info.shape.iter().enumerate().skip(1) {
                match d {
                    Some(d) => {
                        t.push(*d);
                        width = width.saturating_mul(usize::try_from(*d).unwrap_or(0));
                    }
                    None => {
                        let dims: Vec<String> =
                            info.shape.iter().map(|d| d.map_or("?".to_owned(), |d| d.to_string())).collect();
                        tail = Err(format!(
                            "has a dynamic non-batch dimension {i} in [{}]; ortline feeds [rows, static dims...]",
                            dims.join(", ")
                        ));
                        break;
                    }
                }
            }
        }
        Self { name: info.name.clone(), ty: info.ty, batch, tail, width }
    }

    /// The static non-batch dims, or `None` when the input cannot be fed.
    pub fn static_dims(&self) -> Option<&[i64]> {
        self.tail.as_deref().ok()
    }

    /// Why the input cannot be fed, or `None` when it can.
    pub fn unsupported(&self) -> Option<&str> {
        self.tail.as_ref().err().map(String::as_str)
    }

    /// The tensor shape for `rows` rows (rows first unless a scalar, then the static dims).
    pub fn shape(&self, rows: usize) -> Vec<i64> {
        let dims = self.static_dims().unwrap_or(&[]);
        let mut shape = Vec::with_capacity(1 + dims.len());
        if self.batch != Batch::Scalar {
            shape.push(i64::try_from(rows).unwrap_or(i64::MAX));
        }
        shape.extend_from_slice(dims);
        shape
    }

    /// How many values this input takes for `rows` rows, or the error that names it: it cannot
    /// be fed, `rows` does not fit its fixed batch dimension, or `rows` is too large.
    pub fn values_for(&self, rows: usize) -> Result<usize> {
        let name = &self.name;
        if let Some(why) = self.unsupported() {
            return Err(Error::new(ErrorCode::UnsupportedInput, format!("input \"{name}\" {why}"))
                .with("input", name.as_str()));
        }
        if rows > MAX_ROWS {
            return Err(Error::new(
                ErrorCode::InvalidRows,
                format!("rows must be at most {MAX_ROWS}, got {rows}"),
            )
            .with("got", rows));
        }
        match self.batch {
            Batch::Scalar => Ok(1),
            Batch::Fixed(n) if rows as i64 != n && rows != 0 => Err(Error::new(
                ErrorCode::InvalidRows,
                format!(
                    "input \"{name}\" has a fixed batch dimension of {n}, so rows must be {n}, got {rows}"
                ),
            )
            .with("input", name.as_str())
            .with("expected", n)
            .with("got", rows)),
            _ => rows.checked_mul(self.width).ok_or_else(|| {
                Error::new(ErrorCode::InvalidRows, format!("rows is too large: {rows}")).with("got", rows)
            }),
        }
    }

    /// Checks a feed of `len` values of type `got` for `rows` rows against this plan.
    pub fn check(&self, got: ElementType, len: usize, rows: usize) -> Result<()> {
        let name = &self.name;
        if got != self.ty {
            return Err(Error::new(
                ErrorCode::InputTypeMismatch,
                format!("input \"{name}\" expects {}, got {got}", self.ty),
            )
            .with("input", name.as_str())
            .with("expected", self.ty.as_str())
            .with("got", got.as_str()));
        }
        let want = self.values_for(rows)?;
        if len != want {
            let how = match self.batch {
                Batch::Scalar => "a scalar".to_owned(),
                _ => format!("{rows} rows x {}", self.width),
            };
            return Err(Error::new(
                ErrorCode::InputShapeMismatch,
                format!("input \"{name}\" needs {want} values ({how}), got {len}"),
            )
            .with("input", name.as_str())
            .with("expected", want)
            .with("got", len));
        }
        Ok(())
    }
}
