//! The handful of GSS-API (RFC 2744, RFC 4121 IOV extensions) entry points the harness needs,
//! resolved at run time from the platform's Kerberos library.
//!
//! Loading at run time rather than linking keeps every build free of C headers, bindgen and
//! libclang, and lets the same binary run where no Kerberos library is installed (Kerberos is
//! then refused with a clear error instead of the program failing to start). The declarations
//! follow MIT krb5's `gssapi.h` / `gssapi_ext.h`; Apple's headers pack these structs to 2 bytes.

#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_int, c_void};
use std::sync::OnceLock;

pub type OM_uint32 = u32;
pub type gss_name_t = *mut c_void;
pub type gss_ctx_id_t = *mut c_void;
pub type gss_cred_id_t = *mut c_void;

#[cfg_attr(target_os = "macos", repr(C, packed(2)))]
#[cfg_attr(not(target_os = "macos"), repr(C))]
#[derive(Clone, Copy)]
pub struct gss_buffer_desc {
    pub length: usize,
    pub value: *mut c_void,
}

impl gss_buffer_desc {
    pub const EMPTY: gss_buffer_desc = gss_buffer_desc {
        length: 0,
        value: std::ptr::null_mut(),
    };

    /// A descriptor over borrowed bytes; the library only reads input buffers.
    pub fn borrowed(bytes: &[u8]) -> gss_buffer_desc {
        gss_buffer_desc {
            length: bytes.len(),
            value: bytes.as_ptr() as *mut c_void,
        }
    }
}

#[cfg_attr(target_os = "macos", repr(C, packed(2)))]
#[cfg_attr(not(target_os = "macos"), repr(C))]
pub struct gss_OID_desc {
    pub length: OM_uint32,
    pub elements: *mut c_void,
}

#[cfg_attr(target_os = "macos", repr(C, packed(2)))]
#[cfg_attr(not(target_os = "macos"), repr(C))]
pub struct gss_OID_set_desc {
    pub count: usize,
    pub elements: *mut gss_OID_desc,
}

#[cfg_attr(target_os = "macos", repr(C, packed(2)))]
#[cfg_attr(not(target_os = "macos"), repr(C))]
pub struct gss_channel_bindings_struct {
    pub initiator_addrtype: OM_uint32,
    pub initiator_address: gss_buffer_desc,
    pub acceptor_addrtype: OM_uint32,
    pub acceptor_address: gss_buffer_desc,
    pub application_data: gss_buffer_desc,
}

#[cfg_attr(target_os = "macos", repr(C, packed(2)))]
#[cfg_attr(not(target_os = "macos"), repr(C))]
pub struct gss_iov_buffer_desc {
    pub type_: OM_uint32,
    pub buffer: gss_buffer_desc,
}

#[repr(C)]
pub struct gss_key_value_element_desc {
    pub key: *const c_char,
    pub value: *const c_char,
}

#[repr(C)]
pub struct gss_key_value_set_desc {
    pub count: OM_uint32,
    pub elements: *mut gss_key_value_element_desc,
}

pub const GSS_S_COMPLETE: OM_uint32 = 0;
pub const GSS_S_CONTINUE_NEEDED: OM_uint32 = 1;
pub const GSS_C_GSS_CODE: c_int = 1;
pub const GSS_C_MECH_CODE: c_int = 2;
pub const GSS_C_INITIATE: c_int = 1;
pub const GSS_C_ACCEPT: c_int = 2;
pub const GSS_C_INDEFINITE: OM_uint32 = 0xffff_ffff;

pub const GSS_C_MUTUAL_FLAG: OM_uint32 = 2;
pub const GSS_C_REPLAY_FLAG: OM_uint32 = 4;
pub const GSS_C_SEQUENCE_FLAG: OM_uint32 = 8;
pub const GSS_C_CONF_FLAG: OM_uint32 = 16;
pub const GSS_C_INTEG_FLAG: OM_uint32 = 32;
/// MIT extension: the acceptor verified the initiator's channel bindings.
pub const GSS_C_CHANNEL_BOUND_FLAG: OM_uint32 = 2048;

pub const GSS_IOV_BUFFER_TYPE_DATA: OM_uint32 = 1;
pub const GSS_IOV_BUFFER_TYPE_HEADER: OM_uint32 = 2;
pub const GSS_IOV_BUFFER_TYPE_PADDING: OM_uint32 = 9;

type ImportName = unsafe extern "C" fn(
    *mut OM_uint32,
    *mut gss_buffer_desc,
    *mut gss_OID_desc,
    *mut gss_name_t,
) -> OM_uint32;
type ReleaseName = unsafe extern "C" fn(*mut OM_uint32, *mut gss_name_t) -> OM_uint32;
type DisplayName = unsafe extern "C" fn(
    *mut OM_uint32,
    gss_name_t,
    *mut gss_buffer_desc,
    *mut *mut gss_OID_desc,
) -> OM_uint32;
type InitSecContext = unsafe extern "C" fn(
    *mut OM_uint32,
    gss_cred_id_t,
    *mut gss_ctx_id_t,
    gss_name_t,
    *mut gss_OID_desc,
    OM_uint32,
    OM_uint32,
    *mut gss_channel_bindings_struct,
    *mut gss_buffer_desc,
    *mut *mut gss_OID_desc,
    *mut gss_buffer_desc,
    *mut OM_uint32,
    *mut OM_uint32,
) -> OM_uint32;
type AcceptSecContext = unsafe extern "C" fn(
    *mut OM_uint32,
    *mut gss_ctx_id_t,
    gss_cred_id_t,
    *mut gss_buffer_desc,
    *mut gss_channel_bindings_struct,
    *mut gss_name_t,
    *mut *mut gss_OID_desc,
    *mut gss_buffer_desc,
    *mut OM_uint32,
    *mut OM_uint32,
    *mut gss_cred_id_t,
) -> OM_uint32;
type DeleteSecContext =
    unsafe extern "C" fn(*mut OM_uint32, *mut gss_ctx_id_t, *mut gss_buffer_desc) -> OM_uint32;
type ReleaseBuffer = unsafe extern "C" fn(*mut OM_uint32, *mut gss_buffer_desc) -> OM_uint32;
type ReleaseCred = unsafe extern "C" fn(*mut OM_uint32, *mut gss_cred_id_t) -> OM_uint32;
type DisplayStatus = unsafe extern "C" fn(
    *mut OM_uint32,
    OM_uint32,
    c_int,
    *mut gss_OID_desc,
    *mut OM_uint32,
    *mut gss_buffer_desc,
) -> OM_uint32;
type AcquireCredWithPassword = unsafe extern "C" fn(
    *mut OM_uint32,
    gss_name_t,
    *mut gss_buffer_desc,
    OM_uint32,
    *mut gss_OID_set_desc,
    c_int,
    *mut gss_cred_id_t,
    *mut *mut gss_OID_set_desc,
    *mut OM_uint32,
) -> OM_uint32;
type AcquireCredFrom = unsafe extern "C" fn(
    *mut OM_uint32,
    gss_name_t,
    OM_uint32,
    *mut gss_OID_set_desc,
    c_int,
    *mut gss_key_value_set_desc,
    *mut gss_cred_id_t,
    *mut *mut gss_OID_set_desc,
    *mut OM_uint32,
) -> OM_uint32;
type WrapIov = unsafe extern "C" fn(
    *mut OM_uint32,
    gss_ctx_id_t,
    c_int,
    OM_uint32,
    *mut c_int,
    *mut gss_iov_buffer_desc,
    c_int,
) -> OM_uint32;
type Unwrap = unsafe extern "C" fn(
    *mut OM_uint32,
    gss_ctx_id_t,
    *mut gss_buffer_desc,
    *mut gss_buffer_desc,
    *mut c_int,
    *mut OM_uint32,
) -> OM_uint32;

/// The resolved entry points. The library stays loaded for the life of the process.
pub struct Gss {
    _lib: libloading::Library,
    /// Where it was loaded from, for messages.
    pub path: String,
    pub import_name: ImportName,
    pub release_name: ReleaseName,
    pub display_name: DisplayName,
    pub init_sec_context: InitSecContext,
    pub accept_sec_context: AcceptSecContext,
    pub delete_sec_context: DeleteSecContext,
    pub release_buffer: ReleaseBuffer,
    pub release_cred: ReleaseCred,
    pub display_status: DisplayStatus,
    pub wrap_iov_length: WrapIov,
    pub wrap_iov: WrapIov,
    pub unwrap: Unwrap,
    /// MIT extensions: absent from Heimdal.
    pub acquire_cred_with_password: Option<AcquireCredWithPassword>,
    pub acquire_cred_from: Option<AcquireCredFrom>,
}

// SAFETY: the struct holds only plain function pointers into a library that is never unloaded.
unsafe impl Send for Gss {}
unsafe impl Sync for Gss {}

/// Where to look, most specific first; `WSMAN_GSSAPI_LIB` overrides.
fn candidates() -> Vec<String> {
    let mut v = Vec::new();
    if let Ok(p) = std::env::var("WSMAN_GSSAPI_LIB") {
        v.push(p);
    }
    let builtin: &[&str] = if cfg!(target_os = "macos") {
        &[
            "/System/Library/Frameworks/GSS.framework/GSS",
            "libgssapi_krb5.2.2.dylib",
            "libgssapi_krb5.dylib",
        ]
    } else if cfg!(windows) {
        // Windows speaks Kerberos through SSPI, not GSS-API; an MIT build can still be named.
        &["gssapi64.dll"]
    } else {
        &["libgssapi_krb5.so.2", "libgssapi_krb5.so", "libgssapi.so.3"]
    };
    v.extend(builtin.iter().map(|s| (*s).to_owned()));
    v
}

/// The process-wide GSS-API, loaded on first use.
pub fn gss() -> Result<&'static Gss, String> {
    static GSS: OnceLock<Result<Gss, String>> = OnceLock::new();
    GSS.get_or_init(load).as_ref().map_err(Clone::clone)
}

fn load() -> Result<Gss, String> {
    let mut tried = Vec::new();
    for path in candidates() {
        // SAFETY: loading a system GSS-API library runs its initialisers, which have no
        // preconditions on our side.
        match unsafe { libloading::Library::new(&path) } {
            Ok(lib) => return resolve(lib, path),
            Err(e) => tried.push(format!("{path}: {e}")),
        }
    }
    Err(format!(
        "no GSS-API library found (install MIT Kerberos, e.g. Debian `libgssapi-krb5-2`, or set \
         WSMAN_GSSAPI_LIB); tried {}",
        tried.join("; ")
    ))
}

fn resolve(lib: libloading::Library, path: String) -> Result<Gss, String> {
    macro_rules! sym {
        ($name:literal) => {
            // SAFETY: the symbol's C type is the one declared for it above (gssapi.h).
            unsafe {
                *lib.get(concat!($name, "\0").as_bytes())
                    .map_err(|e| format!("{path}: no {}: {e}", $name))?
            }
        };
    }
    macro_rules! opt {
        ($name:literal) => {
            // SAFETY: as above.
            unsafe { lib.get(concat!($name, "\0").as_bytes()).ok().map(|s| *s) }
        };
    }
    Ok(Gss {
        import_name: sym!("gss_import_name"),
        release_name: sym!("gss_release_name"),
        display_name: sym!("gss_display_name"),
        init_sec_context: sym!("gss_init_sec_context"),
        accept_sec_context: sym!("gss_accept_sec_context"),
        delete_sec_context: sym!("gss_delete_sec_context"),
        release_buffer: sym!("gss_release_buffer"),
        release_cred: sym!("gss_release_cred"),
        display_status: sym!("gss_display_status"),
        wrap_iov_length: sym!("gss_wrap_iov_length"),
        wrap_iov: sym!("gss_wrap_iov"),
        unwrap: sym!("gss_unwrap"),
        acquire_cred_with_password: opt!("gss_acquire_cred_with_password"),
        acquire_cred_from: opt!("gss_acquire_cred_from"),
        _lib: lib,
        path,
    })
}
