//! Status codes, the per-thread last-error message, and the guard every
//! entry point runs its body in.

use std::cell::RefCell;
use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::{Error, ErrorKind};

/// Success.
pub const FACELESS_OK: i32 = 0;
/// A required pointer argument was NULL (the last-error message names it).
pub const FACELESS_ERR_NULL_POINTER: i32 = 1;
/// An argument is out of range: zero size, stride shorter than a row, buffer
/// shorter than stride × height, unknown pixel format or image kind, bad
/// `struct_size`, unknown execution provider name, bad option value.
pub const FACELESS_ERR_INVALID_ARGUMENT: i32 = 2;
/// A file could not be read.
pub const FACELESS_ERR_IO: i32 = 3;
/// The bytes are not an image in a supported format, or are truncated.
pub const FACELESS_ERR_DECODE: i32 = 4;
/// The input is over one of the pipeline's limits: width × height over
/// `max_pixels` (or overflowing), or encoded input over a limit set with
/// `faceless_pipeline_set_input_limits` (or its default).
pub const FACELESS_ERR_IMAGE_TOO_LARGE: i32 = 5;
/// ONNX Runtime could not be found or loaded, or has the wrong version.
pub const FACELESS_ERR_RUNTIME: i32 = 6;
/// An execution provider was requested that the loaded ONNX Runtime lacks.
pub const FACELESS_ERR_EXECUTION_PROVIDER_UNAVAILABLE: i32 = 7;
/// A model file or manifest is missing, malformed or does not fit.
pub const FACELESS_ERR_MODEL: i32 = 8;
/// ONNX Runtime failed while running a model.
pub const FACELESS_ERR_INFERENCE: i32 = 9;
/// A bug in Faceless (a caught panic); the message says where.
pub const FACELESS_ERR_INTERNAL: i32 = 10;

// The codes 2..=10 are the Rust API's `ErrorKind` values; keep them in step.
const _: () = {
    assert!(FACELESS_ERR_INVALID_ARGUMENT == ErrorKind::InvalidArgument as i32);
    assert!(FACELESS_ERR_IO == ErrorKind::Io as i32);
    assert!(FACELESS_ERR_DECODE == ErrorKind::Decode as i32);
    assert!(FACELESS_ERR_IMAGE_TOO_LARGE == ErrorKind::ImageTooLarge as i32);
    assert!(FACELESS_ERR_RUNTIME == ErrorKind::Runtime as i32);
    assert!(
        FACELESS_ERR_EXECUTION_PROVIDER_UNAVAILABLE
            == ErrorKind::ExecutionProviderUnavailable as i32
    );
    assert!(FACELESS_ERR_MODEL == ErrorKind::Model as i32);
    assert!(FACELESS_ERR_INFERENCE == ErrorKind::Inference as i32);
    assert!(FACELESS_ERR_INTERNAL == ErrorKind::Internal as i32);
};

/// Why a call failed, before it becomes a status code and a message.
#[derive(Debug)]
pub(crate) enum Fail {
    /// A NULL pointer argument, by name.
    Null(&'static str),
    /// An argument the ABI layer itself rejects.
    Invalid(String),
    /// An error from the Rust API.
    Api(Error),
    /// A caught panic.
    Panic(String),
}

impl From<Error> for Fail {
    fn from(e: Error) -> Self {
        Fail::Api(e)
    }
}

impl Fail {
    pub(crate) fn code(&self) -> i32 {
        match self {
            Fail::Null(_) => FACELESS_ERR_NULL_POINTER,
            Fail::Invalid(_) => FACELESS_ERR_INVALID_ARGUMENT,
            Fail::Api(e) => e.kind() as i32,
            Fail::Panic(_) => FACELESS_ERR_INTERNAL,
        }
    }

    pub(crate) fn message(&self) -> String {
        match self {
            Fail::Null(name) => format!("argument `{name}` is NULL"),
            Fail::Invalid(m) => format!("invalid argument: {m}"),
            Fail::Api(e) => e.to_string(),
            Fail::Panic(m) => format!("internal error (panic): {m}"),
        }
    }

    pub(crate) fn from_panic(payload: Box<dyn std::any::Any + Send>) -> Self {
        match Error::from_panic(payload) {
            Error::Internal(msg) => Fail::Panic(msg),
            other => Fail::Api(other),
        }
    }
}

/// Returns `Err(Fail::Null(name))` when `p` is NULL.
pub(crate) fn non_null<T>(p: *const T, name: &'static str) -> Result<(), Fail> {
    if p.is_null() {
        Err(Fail::Null(name))
    } else {
        Ok(())
    }
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// Stores `message` as this thread's last error.
pub(crate) fn set_last_error(message: &str) {
    let c = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
    let _ = LAST_ERROR.try_with(|slot| *slot.borrow_mut() = c);
}

/// Runs an entry point's body: catches panics, maps failures to status codes
/// and records the message for `faceless_last_error`.
pub(crate) fn guard(body: impl FnOnce() -> Result<(), Fail>) -> i32 {
    let outcome = catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|p| Err(Fail::from_panic(p)));
    match outcome {
        Ok(()) => FACELESS_OK,
        Err(fail) => {
            set_last_error(&fail.message());
            fail.code()
        }
    }
}

/// A static, human-readable name for a status code, e.g.
/// `"FACELESS_ERR_DECODE: the bytes are not a supported image or are truncated"`.
/// Unknown codes give `"unknown status code"`. Never NULL; never free it.
#[no_mangle]
pub extern "C" fn faceless_status_string(status: i32) -> *const c_char {
    catch_unwind(|| status_text(status).as_ptr()).unwrap_or(c"unknown status code".as_ptr())
}

fn status_text(status: i32) -> &'static std::ffi::CStr {
    match status {
        FACELESS_OK => c"FACELESS_OK: success",
        FACELESS_ERR_NULL_POINTER => c"FACELESS_ERR_NULL_POINTER: a required pointer argument is NULL",
        FACELESS_ERR_INVALID_ARGUMENT => c"FACELESS_ERR_INVALID_ARGUMENT: an argument is out of range",
        FACELESS_ERR_IO => c"FACELESS_ERR_IO: a file could not be read",
        FACELESS_ERR_DECODE => {
            c"FACELESS_ERR_DECODE: the bytes are not a supported image or are truncated"
        }
        FACELESS_ERR_IMAGE_TOO_LARGE => {
            c"FACELESS_ERR_IMAGE_TOO_LARGE: the image exceeds the pixel limit"
        }
        FACELESS_ERR_RUNTIME => {
            c"FACELESS_ERR_RUNTIME: ONNX Runtime could not be found or loaded"
        }
        FACELESS_ERR_EXECUTION_PROVIDER_UNAVAILABLE => {
            c"FACELESS_ERR_EXECUTION_PROVIDER_UNAVAILABLE: the loaded ONNX Runtime lacks a requested execution provider"
        }
        FACELESS_ERR_MODEL => c"FACELESS_ERR_MODEL: a model is missing, malformed or does not fit",
        FACELESS_ERR_INFERENCE => c"FACELESS_ERR_INFERENCE: ONNX Runtime failed while running a model",
        FACELESS_ERR_INTERNAL => c"FACELESS_ERR_INTERNAL: internal error in Faceless (a bug)",
        _ => c"unknown status code",
    }
}

/// The message of the most recent failed call on the calling thread, or an
/// empty string if no call on this thread has failed yet. Successful calls
/// do not clear it. The pointer stays valid until the next failing call on
/// the same thread; copy it to keep it. Never NULL; never free it.
#[no_mangle]
pub extern "C" fn faceless_last_error() -> *const c_char {
    catch_unwind(|| LAST_ERROR.try_with(|slot| slot.borrow().as_ptr()).ok())
        .ok()
        .flatten()
        .unwrap_or(c"".as_ptr())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last() -> String {
        // SAFETY: faceless_last_error never returns NULL.
        unsafe { std::ffi::CStr::from_ptr(faceless_last_error()) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn a_panic_becomes_internal_error() {
        let code = guard(|| panic!("boom at the boundary"));
        assert_eq!(code, FACELESS_ERR_INTERNAL);
        assert!(last().contains("boom at the boundary"), "{}", last());
        let code = guard(|| std::panic::panic_any(42u8));
        assert_eq!(code, FACELESS_ERR_INTERNAL);
    }

    #[test]
    fn failures_set_the_message_and_successes_keep_it() {
        assert_eq!(
            guard(|| Err(Fail::Null("thing"))),
            FACELESS_ERR_NULL_POINTER
        );
        assert_eq!(last(), "argument `thing` is NULL");
        assert_eq!(guard(|| Ok(())), FACELESS_OK);
        assert_eq!(last(), "argument `thing` is NULL");
        let api = Fail::Api(crate::Error::Decode("bad".into()));
        assert_eq!(guard(|| Err(api)), FACELESS_ERR_DECODE);
        // interior NULs cannot truncate the message
        assert_eq!(
            guard(|| Err(Fail::Invalid("a\0b".into()))),
            FACELESS_ERR_INVALID_ARGUMENT
        );
        assert!(last().ends_with("a\\0b"), "{}", last());
    }
}
