//! Core errors as JavaScript errors: an `Error` whose `code` is the core's code, whose `message` is
//! its message, and whose `details` is an object of its structured details. Built with napi's own
//! `napi_create_error` and rethrown as that very object, so nothing above parses text.

use std::ptr;

use napi::bindgen_prelude::*;
use napi::sys;
use ortline_core::Detail;

/// The JS error for a core error, as a napi error that rethrows exactly that value. `env` is the
/// env of the current call or task callback, on its JS thread (async tasks keep the core error
/// until `reject`, where there is one).
pub(crate) fn to_js(env: sys::napi_env, e: &ortline_core::Error) -> Error {
    // SAFETY: see above; `value` is created in `env` and used at once.
    match unsafe { js_error(env, e) } {
        Ok(value) => Error::from(unsafe { Unknown::from_raw_unchecked(env, value) }),
        // Only when napi itself fails: still an error, without the structure.
        Err(napi) => napi,
    }
}

/// A failed napi call is a bug or an exhausted engine: a plain error without a code, which the
/// scorer reports as INTERNAL_ERROR.
pub(crate) fn check(status: sys::napi_status, what: &str) -> Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(Error::new(Status::GenericFailure, format!("{what} failed (napi status {status})")))
    }
}

unsafe fn string(env: sys::napi_env, s: &str) -> Result<sys::napi_value> {
    let mut value = ptr::null_mut();
    check(
        unsafe { sys::napi_create_string_utf8(env, s.as_ptr().cast(), s.len() as isize, &mut value) },
        "napi_create_string_utf8",
    )?;
    Ok(value)
}

unsafe fn js_error(env: sys::napi_env, e: &ortline_core::Error) -> Result<sys::napi_value> {
    let code = unsafe { string(env, e.code().as_str())? };
    let message = unsafe { string(env, e.message())? };
    let mut error = ptr::null_mut();
    check(unsafe { sys::napi_create_error(env, code, message, &mut error) }, "napi_create_error")?;
    let mut details = ptr::null_mut();
    check(unsafe { sys::napi_create_object(env, &mut details) }, "napi_create_object")?;
    for (key, value) in e.details() {
        let js = match value {
            Detail::Str(s) => unsafe { string(env, s)? },
            Detail::Int(n) => {
                let mut v = ptr::null_mut();
                check(unsafe { sys::napi_create_int64(env, *n, &mut v) }, "napi_create_int64")?;
                v
            }
        };
        let key = unsafe { string(env, key)? };
        check(unsafe { sys::napi_set_property(env, details, key, js) }, "napi_set_property")?;
    }
    let name = unsafe { string(env, "details")? };
    check(unsafe { sys::napi_set_property(env, error, name, details) }, "napi_set_property")?;
    Ok(error)
}
