//! The few ONNX Runtime C API calls the run path makes itself, without ort's wrappers: they let a
//! run reuse the session's cached C-string names and one memory info, and build string tensors
//! straight from one packed buffer. Each raw pointer is owned by a guard that releases it.

use std::ffi::c_void;
use std::ptr::{self, NonNull};

use ort::sys::{OrtMemoryInfo, OrtStatusPtr, OrtTensorTypeAndShapeInfo, OrtValue};

use crate::error::{Error, ErrorCode, Result};

/// Turns an ORT status into a `Result`, releasing the status.
pub(crate) fn check(status: OrtStatusPtr, code: ErrorCode) -> Result<()> {
    // SAFETY: `status` came from an ORT API call; `result_from_status` takes ownership of it.
    match unsafe { ort::Error::result_from_status(status) } {
        Ok(()) => Ok(()),
        Err(e) => Err(Error::new(code, e.message().to_owned())),
    }
}

/// An `OrtValue` this crate created or received, released on drop.
pub(crate) struct OwnedValue(NonNull<OrtValue>);

// SAFETY: an OrtValue may be moved between threads; it is used by one thread at a time.
unsafe impl Send for OwnedValue {}

impl OwnedValue {
    pub(crate) fn from_raw(ptr: *mut OrtValue) -> Option<Self> {
        NonNull::new(ptr).map(Self)
    }

    pub(crate) fn as_ptr(&self) -> *mut OrtValue {
        self.0.as_ptr()
    }
}

impl Drop for OwnedValue {
    fn drop(&mut self) {
        // SAFETY: the value is owned by this guard and released once.
        unsafe { (ort::api().ReleaseValue)(self.0.as_ptr()) };
    }
}

/// A CPU memory info, created once per model and shared by every input tensor it builds.
pub(crate) struct CpuMemory(NonNull<OrtMemoryInfo>);

// SAFETY: the memory info is immutable after creation; ORT only reads it.
unsafe impl Send for CpuMemory {}
unsafe impl Sync for CpuMemory {}

impl CpuMemory {
    pub(crate) fn new() -> Result<Self> {
        let mut info = ptr::null_mut();
        check(
            // SAFETY: out-pointer call.
            unsafe {
                (ort::api().CreateCpuMemoryInfo)(
                    ort::sys::OrtAllocatorType::OrtDeviceAllocator,
                    ort::sys::OrtMemType::OrtMemTypeDefault,
                    &mut info,
                )
            },
            ErrorCode::Internal,
        )?;
        NonNull::new(info)
            .map(Self)
            .ok_or_else(|| Error::new(ErrorCode::Internal, "CreateCpuMemoryInfo returned null"))
    }

    pub(crate) fn as_ptr(&self) -> *const OrtMemoryInfo {
        self.0.as_ptr()
    }
}

impl Drop for CpuMemory {
    fn drop(&mut self) {
        // SAFETY: owned, released once.
        unsafe { (ort::api().ReleaseMemoryInfo)(self.0.as_ptr()) };
    }
}

/// A tensor over caller memory: ORT reads `data` in place, no copy. The caller keeps `data`
/// alive and unchanged until the returned value is dropped.
pub(crate) unsafe fn tensor_over(
    memory: &CpuMemory,
    data: *const c_void,
    byte_len: usize,
    shape: &[i64],
    ty: ort::sys::ONNXTensorElementDataType,
) -> Result<OwnedValue> {
    let mut value = ptr::null_mut();
    // An empty slice's pointer is dangling but non-null; ORT never reads it for zero bytes.
    check(
        unsafe {
            (ort::api().CreateTensorWithDataAsOrtValue)(
                memory.as_ptr(),
                data.cast_mut(),
                byte_len,
                shape.as_ptr(),
                shape.len(),
                ty,
                &mut value,
            )
        },
        ErrorCode::RunFailed,
    )?;
    OwnedValue::from_raw(value)
        .ok_or_else(|| Error::new(ErrorCode::Internal, "CreateTensorWithDataAsOrtValue returned null"))
}

/// A tensor of `shape` and `ty` in ONNX Runtime's own memory (numbers start undefined, strings
/// empty).
fn ort_tensor(shape: &[i64], ty: ort::sys::ONNXTensorElementDataType) -> Result<OwnedValue> {
    let api = ort::api();
    let mut allocator = ptr::null_mut();
    check(unsafe { (api.GetAllocatorWithDefaultOptions)(&mut allocator) }, ErrorCode::Internal)?;
    let mut value = ptr::null_mut();
    check(
        unsafe { (api.CreateTensorAsOrtValue)(allocator, shape.as_ptr(), shape.len(), ty, &mut value) },
        ErrorCode::RunFailed,
    )?;
    OwnedValue::from_raw(value)
        .ok_or_else(|| Error::new(ErrorCode::Internal, "CreateTensorAsOrtValue returned null"))
}

/// An int64 tensor of `shape` in ONNX Runtime's own memory, to be written through
/// [`int64_data`].
pub(crate) fn int64_tensor(shape: &[i64]) -> Result<OwnedValue> {
    ort_tensor(shape, ort::sys::ONNXTensorElementDataType::ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64)
}

/// The values of a tensor made by [`int64_tensor`], `count` long.
///
/// # Safety
/// `count` must be the tensor's element count.
pub(crate) unsafe fn int64_data(value: &mut OwnedValue, count: usize) -> Result<&mut [i64]> {
    let mut data: *mut c_void = ptr::null_mut();
    check(unsafe { (ort::api().GetTensorMutableData)(value.as_ptr(), &mut data) }, ErrorCode::Internal)?;
    if data.is_null() || count == 0 {
        return Ok(&mut []);
    }
    // SAFETY: the caller vouches for `count`; `value` is borrowed mutably, so this is the only
    // view; ORT aligns tensor data.
    Ok(unsafe { std::slice::from_raw_parts_mut(data.cast::<i64>(), count) })
}

/// A string tensor filled from NUL-terminated strings (ORT copies them into its own storage).
pub(crate) unsafe fn string_tensor(strings: &[*const std::ffi::c_char], shape: &[i64]) -> Result<OwnedValue> {
    let value = ort_tensor(shape, ort::sys::ONNXTensorElementDataType::ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING)?;
    // SAFETY: the caller's pointers are valid NUL-terminated strings, one per element.
    unsafe { fill_strings(&value, strings)? };
    Ok(value)
}

/// Refills a string tensor made by [`string_tensor`] with as many strings.
pub(crate) unsafe fn fill_strings(value: &OwnedValue, strings: &[*const std::ffi::c_char]) -> Result<()> {
    check(
        unsafe { (ort::api().FillStringTensor)(value.as_ptr(), strings.as_ptr(), strings.len()) },
        ErrorCode::RunFailed,
    )
}

/// Element type and dimensions of a tensor value; `None` for non-tensors (sequences, maps).
pub(crate) fn tensor_type_and_shape(
    value: &OwnedValue,
) -> Result<Option<(ort::sys::ONNXTensorElementDataType, Vec<i64>)>> {
    let api = ort::api();
    let mut is_tensor = 0;
    check(unsafe { (api.IsTensor)(value.as_ptr(), &mut is_tensor) }, ErrorCode::RunFailed)?;
    if is_tensor == 0 {
        return Ok(None);
    }
    let mut info: *mut OrtTensorTypeAndShapeInfo = ptr::null_mut();
    check(unsafe { (api.GetTensorTypeAndShape)(value.as_ptr(), &mut info) }, ErrorCode::RunFailed)?;
    struct Info(*mut OrtTensorTypeAndShapeInfo);
    impl Drop for Info {
        fn drop(&mut self) {
            if !self.0.is_null() {
                unsafe { (ort::api().ReleaseTensorTypeAndShapeInfo)(self.0) };
            }
        }
    }
    let info = Info(info);
    let mut ty = ort::sys::ONNXTensorElementDataType::ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
    check(unsafe { (api.GetTensorElementType)(info.0, &mut ty) }, ErrorCode::RunFailed)?;
    let mut rank = 0;
    check(unsafe { (api.GetDimensionsCount)(info.0, &mut rank) }, ErrorCode::RunFailed)?;
    let mut dims = vec![0i64; rank];
    check(unsafe { (api.GetDimensions)(info.0, dims.as_mut_ptr(), rank) }, ErrorCode::RunFailed)?;
    Ok(Some((ty, dims)))
}

/// Copies `count` elements of a numeric tensor into a new `Vec`.
pub(crate) fn copy_tensor<T: Copy>(value: &OwnedValue, count: usize) -> Result<Vec<T>> {
    let mut data: *mut c_void = ptr::null_mut();
    check(unsafe { (ort::api().GetTensorMutableData)(value.as_ptr(), &mut data) }, ErrorCode::RunFailed)?;
    let mut out = Vec::<T>::with_capacity(count);
    if count > 0 {
        if data.is_null() {
            return Err(Error::new(ErrorCode::RunFailed, "ONNX Runtime returned a tensor without data"));
        }
        // SAFETY: ORT's tensor holds `count` elements of T (its element type was checked by the
        // caller); the Vec has room for them and T is plain data.
        unsafe {
            ptr::copy_nonoverlapping(data.cast::<T>(), out.as_mut_ptr(), count);
            out.set_len(count);
        }
    }
    Ok(out)
}

/// Copies a string tensor's contents: all bytes back to back plus where each string starts.
pub(crate) fn copy_strings(value: &OwnedValue, count: usize) -> Result<(Vec<u8>, Vec<usize>)> {
    let api = ort::api();
    let mut total = 0usize;
    check(unsafe { (api.GetStringTensorDataLength)(value.as_ptr(), &mut total) }, ErrorCode::RunFailed)?;
    let mut bytes = vec![0u8; total];
    let mut offsets = vec![0usize; count];
    if count > 0 {
        check(
            unsafe {
                (api.GetStringTensorContent)(
                    value.as_ptr(),
                    bytes.as_mut_ptr().cast(),
                    total,
                    offsets.as_mut_ptr(),
                    count,
                )
            },
            ErrorCode::RunFailed,
        )?;
    }
    Ok((bytes, offsets))
}
