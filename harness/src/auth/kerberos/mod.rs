//! Kerberos 5 through the platform's GSS-API (MIT krb5 on Linux): initiator and acceptor
//! contexts, and the MS-WSMV per-message wrapping of WinRM bodies.
//!
//! Unlike NTLM, whose wire codec is the harness's own, Kerberos is delegated whole to a
//! maintained implementation: the tickets, enctypes and KDC exchanges are not what a WS-Man
//! harness tests, and only a real library is a credible peer for Windows. The SPNEGO framing
//! around the tokens stays ours ([`crate::auth::spnego`]). The initiator talks to the KDC
//! named by the library's configuration (`KRB5_CONFIG`), which is the one place here that does
//! network I/O outside the caller's control.

mod ffi;

use std::ffi::CString;
use std::path::Path;
use std::ptr;

use ffi::{
    GSS_C_ACCEPT, GSS_C_CONF_FLAG, GSS_C_GSS_CODE, GSS_C_INDEFINITE, GSS_C_INITIATE,
    GSS_C_INTEG_FLAG, GSS_C_MECH_CODE, GSS_C_MUTUAL_FLAG, GSS_C_REPLAY_FLAG, GSS_C_SEQUENCE_FLAG,
    GSS_IOV_BUFFER_TYPE_DATA, GSS_IOV_BUFFER_TYPE_HEADER, GSS_IOV_BUFFER_TYPE_PADDING,
    GSS_S_COMPLETE, GSS_S_CONTINUE_NEEDED, Gss, OM_uint32, gss, gss_buffer_desc,
    gss_channel_bindings_struct, gss_iov_buffer_desc, gss_key_value_element_desc,
    gss_key_value_set_desc, gss_name_t,
};

/// DER content of the Kerberos 5 mechanism OID, 1.2.840.113554.1.2.2.
const KRB5_MECH: [u8; 9] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02];
/// GSS_C_NT_HOSTBASED_SERVICE, 1.2.840.113554.1.2.1.4 (`service@host`).
const NT_HOSTBASED_SERVICE: [u8; 10] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x01, 0x04];
/// GSS_KRB5_NT_PRINCIPAL_NAME, 1.2.840.113554.1.2.2.1 (`primary/instance@REALM`).
const NT_KRB5_PRINCIPAL: [u8; 10] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02, 0x01];

/// A GSS-API failure, with the library's own words.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("Kerberos {operation}: {message}")]
pub struct KerberosError {
    /// The GSS call or step that failed.
    pub operation: &'static str,
    /// The major and minor status texts.
    pub message: String,
}

impl KerberosError {
    fn new(operation: &'static str, message: impl Into<String>) -> Self {
        Self {
            operation,
            message: message.into(),
        }
    }
}

type Result<T> = std::result::Result<T, KerberosError>;

/// Whether a GSS-API library can be loaded here, and from where.
pub fn available() -> std::result::Result<&'static str, String> {
    gss().map(|g| g.path.as_str())
}

fn lib(operation: &'static str) -> Result<&'static Gss> {
    gss().map_err(|e| KerberosError::new(operation, e))
}

fn oid(bytes: &[u8]) -> ffi::gss_OID_desc {
    ffi::gss_OID_desc {
        length: bytes.len() as OM_uint32,
        elements: bytes.as_ptr() as *mut _,
    }
}

/// Both status codes as text (`gss_display_status` for each).
fn status_text(g: &Gss, major: OM_uint32, minor: OM_uint32) -> String {
    let mut parts = Vec::new();
    for (code, kind) in [(major, GSS_C_GSS_CODE), (minor, GSS_C_MECH_CODE)] {
        if code == 0 {
            continue;
        }
        let mut more: OM_uint32 = 0;
        // Bounded: a broken library must not loop us forever.
        for _ in 0..8 {
            let mut m = 0;
            let mut buf = gss_buffer_desc::EMPTY;
            // SAFETY: every pointer is to a live local; the output buffer is released below.
            let rc = unsafe {
                (g.display_status)(&mut m, code, kind, ptr::null_mut(), &mut more, &mut buf)
            };
            if rc != GSS_S_COMPLETE {
                break;
            }
            parts.push(take_buffer(g, &mut buf));
            if more == 0 {
                break;
            }
        }
    }
    let text: Vec<String> = parts
        .into_iter()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .collect();
    if text.is_empty() {
        format!("major status {major:#x}, minor {minor}")
    } else {
        text.join("; ")
    }
}

/// Copies a library-allocated buffer out and releases it.
fn take_buffer(g: &Gss, buf: &mut gss_buffer_desc) -> Vec<u8> {
    let out = if buf.value.is_null() || buf.length == 0 {
        Vec::new()
    } else {
        // SAFETY: the library filled `value` with `length` readable bytes.
        unsafe { std::slice::from_raw_parts(buf.value as *const u8, buf.length).to_vec() }
    };
    let mut m = 0;
    // SAFETY: releasing a buffer the library allocated, once.
    unsafe { (g.release_buffer)(&mut m, buf) };
    out
}

fn check(g: &Gss, operation: &'static str, major: OM_uint32, minor: OM_uint32) -> Result<()> {
    if major >> 16 != 0 {
        Err(KerberosError::new(operation, status_text(g, major, minor)))
    } else {
        Ok(())
    }
}

/// What a handle is, so that it is released the right way.
#[derive(Clone, Copy)]
enum Kind {
    Name,
    Cred,
    Context,
}

/// A name, credential or security context the library allocated, released once on drop. Null
/// means none (GSS_C_NO_CREDENTIAL, a context not started yet) and is not released.
struct Handle {
    g: &'static Gss,
    raw: *mut std::ffi::c_void,
    kind: Kind,
}

// SAFETY: MIT handles are not tied to the thread that made them; every use goes through
// `&mut` or is read-only, so one is never used from two threads at once.
unsafe impl Send for Handle {}

impl Handle {
    fn none(g: &'static Gss, kind: Kind) -> Handle {
        Handle {
            g,
            raw: ptr::null_mut(),
            kind,
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        if self.raw.is_null() {
            return;
        }
        let (g, mut m) = (self.g, 0);
        // SAFETY: releasing a handle the library gave us, once, with its own release call.
        unsafe {
            match self.kind {
                Kind::Name => (g.release_name)(&mut m, &mut self.raw),
                Kind::Cred => (g.release_cred)(&mut m, &mut self.raw),
                Kind::Context => (g.delete_sec_context)(&mut m, &mut self.raw, ptr::null_mut()),
            }
        };
    }
}

fn import_name(g: &'static Gss, text: &str, kind: &[u8]) -> Result<Handle> {
    let mut buf = gss_buffer_desc::borrowed(text.as_bytes());
    let mut kind = oid(kind);
    let (mut minor, mut name) = (0, Handle::none(g, Kind::Name));
    // SAFETY: the buffer and OID borrow live data for the call; `raw` is an out-parameter.
    let major = unsafe { (g.import_name)(&mut minor, &mut buf, &mut kind, &mut name.raw) };
    check(g, "import name", major, minor)?;
    Ok(name)
}

/// A service name: `HTTP@host` (host-based) or a full principal `HTTP/host@REALM`.
fn service_name(g: &'static Gss, spn: &str) -> Result<Handle> {
    if spn.contains('/') {
        import_name(g, spn, &NT_KRB5_PRINCIPAL)
    } else {
        import_name(g, spn, &NT_HOSTBASED_SERVICE)
    }
}

fn display_name(g: &Gss, raw: gss_name_t) -> Option<String> {
    let (mut minor, mut buf) = (0, gss_buffer_desc::EMPTY);
    // SAFETY: `raw` is a valid name; the buffer is released by take_buffer.
    let major = unsafe { (g.display_name)(&mut minor, raw, &mut buf, ptr::null_mut()) };
    (major == GSS_S_COMPLETE)
        .then(|| String::from_utf8_lossy(&take_buffer(g, &mut buf)).into_owned())
}

/// Whose tickets the initiator uses.
#[derive(Clone, Default)]
pub struct ClientCredentials {
    /// `user@REALM`; with a password, tickets are obtained for it; without, the default
    /// credential cache must hold them (`kinit`).
    pub principal: Option<String>,
    /// The principal's password. Never logged.
    pub password: Option<String>,
}

impl std::fmt::Debug for ClientCredentials {
    /// Without the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("principal", &self.principal)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl ClientCredentials {
    fn acquire(&self, g: &'static Gss) -> Result<Handle> {
        let mut cred = Handle::none(g, Kind::Cred);
        let (Some(principal), Some(password)) = (&self.principal, &self.password) else {
            // GSS_C_NO_CREDENTIAL: the default ccache.
            return Ok(cred);
        };
        let acquire = g.acquire_cred_with_password.ok_or_else(|| {
            KerberosError::new(
                "acquire credentials",
                format!(
                    "{} has no gss_acquire_cred_with_password; run kinit first",
                    g.path
                ),
            )
        })?;
        let name = import_name(g, principal, &NT_KRB5_PRINCIPAL)?;
        let mut pw = gss_buffer_desc::borrowed(password.as_bytes());
        let mut mech = oid(&KRB5_MECH);
        let mut set = ffi::gss_OID_set_desc {
            count: 1,
            elements: &mut mech,
        };
        let mut minor = 0;
        // SAFETY: all inputs borrow live locals for the call; `cred.raw` is an out-parameter.
        let major = unsafe {
            acquire(
                &mut minor,
                name.raw,
                &mut pw,
                GSS_C_INDEFINITE,
                &mut set,
                GSS_C_INITIATE,
                &mut cred.raw,
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        check(g, "acquire credentials", major, minor)?;
        Ok(cred)
    }
}

/// Channel bindings as GSS-API takes them: zero addresses and the application data
/// (`tls-server-end-point:` ‖ certificate hash for WinRM over HTTPS).
fn bindings(app: &[u8]) -> gss_channel_bindings_struct {
    gss_channel_bindings_struct {
        initiator_addrtype: 0,
        initiator_address: gss_buffer_desc::EMPTY,
        acceptor_addrtype: 0,
        acceptor_address: gss_buffer_desc::EMPTY,
        application_data: gss_buffer_desc::borrowed(app),
    }
}

/// One leg of a handshake.
#[derive(Debug)]
pub struct Step {
    /// The token to send (may be empty when nothing is to be sent).
    pub token: Vec<u8>,
    /// The context is established.
    pub complete: bool,
}

/// The client side of a Kerberos handshake.
pub struct Initiator {
    g: &'static Gss,
    cred: Handle,
    target: Handle,
    ctx: Context,
    channel_bindings: Option<Vec<u8>>,
    complete: bool,
}

impl Initiator {
    /// Starts a context towards `spn` (`HTTP@host`, `WSMAN@host` or `HTTP/host@REALM`).
    pub fn new(
        spn: &str,
        creds: &ClientCredentials,
        channel_bindings: Option<Vec<u8>>,
    ) -> Result<Initiator> {
        let g = lib("initiator")?;
        let cred = creds.acquire(g)?;
        let target = service_name(g, spn)?;
        Ok(Initiator {
            g,
            cred,
            target,
            ctx: Context::empty(g),
            channel_bindings,
            complete: false,
        })
    }

    /// Feeds the server's token (none on the first leg) and returns the next one.
    pub fn step(&mut self, input: Option<&[u8]>) -> Result<Step> {
        let g = self.g;
        let mut input_buf = input.map(gss_buffer_desc::borrowed);
        let mut cb = self.channel_bindings.as_deref().map(bindings);
        let mut mech = oid(&KRB5_MECH);
        let (mut minor, mut out, mut flags) = (0, gss_buffer_desc::EMPTY, 0);
        let req = GSS_C_MUTUAL_FLAG
            | GSS_C_REPLAY_FLAG
            | GSS_C_SEQUENCE_FLAG
            | GSS_C_CONF_FLAG
            | GSS_C_INTEG_FLAG;
        // SAFETY: every pointer is a live local or null where the API allows it; the output
        // token is released by take_buffer.
        let major = unsafe {
            (g.init_sec_context)(
                &mut minor,
                self.cred.raw,
                &mut self.ctx.0.raw,
                self.target.raw,
                &mut mech,
                req,
                0,
                cb.as_mut().map_or(ptr::null_mut(), |c| c as *mut _),
                input_buf.as_mut().map_or(ptr::null_mut(), |b| b as *mut _),
                ptr::null_mut(),
                &mut out,
                &mut flags,
                ptr::null_mut(),
            )
        };
        let token = take_buffer(g, &mut out);
        check(g, "initiate", major, minor)?;
        self.complete = major == GSS_S_COMPLETE;
        Ok(Step {
            token,
            complete: self.complete,
        })
    }

    /// The established context, for sealing.
    pub fn into_context(self) -> Result<Context> {
        if !self.complete {
            return Err(KerberosError::new(
                "initiate",
                "the server never completed mutual authentication",
            ));
        }
        Ok(self.ctx)
    }
}

/// The server side: accepts tickets for any service principal in the keytab.
pub struct Acceptor {
    g: &'static Gss,
    cred: Handle,
    ctx: Context,
}

/// What an accepted leg yields.
#[derive(Debug)]
pub struct Accepted {
    /// The reply token (AP-REP when mutual authentication was asked for).
    pub token: Vec<u8>,
    /// The client principal, once the context is complete.
    pub client: Option<String>,
    /// The client's ticket carried the channel binding the acceptor was given (MIT ≥ 1.19
    /// reports it; older libraries never do).
    pub channel_bound: bool,
}

impl Acceptor {
    /// An acceptor reading service keys from `keytab` (or the library's default keytab).
    pub fn new(keytab: Option<&Path>) -> Result<Acceptor> {
        let g = lib("acceptor")?;
        let Some(keytab) = keytab else {
            return Ok(Acceptor {
                g,
                cred: Handle::none(g, Kind::Cred),
                ctx: Context::empty(g),
            });
        };
        let from = g.acquire_cred_from.ok_or_else(|| {
            KerberosError::new(
                "acceptor",
                format!(
                    "{} has no gss_acquire_cred_from; set KRB5_KTNAME instead",
                    g.path
                ),
            )
        })?;
        let key = CString::new("keytab").expect("no NUL");
        let value = CString::new(keytab.to_string_lossy().as_bytes())
            .map_err(|_| KerberosError::new("acceptor", "keytab path contains NUL"))?;
        let mut element = gss_key_value_element_desc {
            key: key.as_ptr(),
            value: value.as_ptr(),
        };
        let mut store = gss_key_value_set_desc {
            count: 1,
            elements: &mut element,
        };
        let mut mech = oid(&KRB5_MECH);
        let mut set = ffi::gss_OID_set_desc {
            count: 1,
            elements: &mut mech,
        };
        let (mut minor, mut cred) = (0, Handle::none(g, Kind::Cred));
        // SAFETY: all inputs borrow live locals for the call; `cred.raw` is an out-parameter.
        let major = unsafe {
            from(
                &mut minor,
                ptr::null_mut(),
                GSS_C_INDEFINITE,
                &mut set,
                GSS_C_ACCEPT,
                &mut store,
                &mut cred.raw,
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        check(g, "acceptor credentials", major, minor)?;
        Ok(Acceptor {
            g,
            cred,
            ctx: Context::empty(g),
        })
    }

    /// Accepts the client's token. Kerberos completes in one leg; a `CONTINUE_NEEDED` answer
    /// (DCE-style or user-to-user) is refused because WinRM never uses it.
    pub fn accept(
        mut self,
        token: &[u8],
        channel_bindings: Option<&[u8]>,
    ) -> Result<(Accepted, Context)> {
        let g = self.g;
        let mut input = gss_buffer_desc::borrowed(token);
        let mut cb = channel_bindings.map(bindings);
        let (mut minor, mut out, mut flags) = (0, gss_buffer_desc::EMPTY, 0);
        let mut src = Handle::none(g, Kind::Name);
        // SAFETY: every pointer is a live local or null where the API allows it; the token is
        // released by take_buffer, the client name by its handle.
        let major = unsafe {
            (g.accept_sec_context)(
                &mut minor,
                &mut self.ctx.0.raw,
                self.cred.raw,
                &mut input,
                cb.as_mut().map_or(ptr::null_mut(), |c| c as *mut _),
                &mut src.raw,
                ptr::null_mut(),
                &mut out,
                &mut flags,
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        let reply = take_buffer(g, &mut out);
        let client = (!src.raw.is_null())
            .then(|| display_name(g, src.raw))
            .flatten();
        check(g, "accept", major, minor)?;
        if major == GSS_S_CONTINUE_NEEDED {
            return Err(KerberosError::new(
                "accept",
                "the context needs more legs (user-to-user or DCE style), which WinRM does not use",
            ));
        }
        Ok((
            Accepted {
                token: reply,
                client,
                channel_bound: flags & ffi::GSS_C_CHANNEL_BOUND_FLAG != 0,
            },
            self.ctx,
        ))
    }
}

/// An established (or establishing) security context; deleted on drop.
pub struct Context(Handle);

/// A body sealed for MS-WSMV: the security header goes in front of the ciphertext.
#[derive(Debug)]
pub struct Wrapped {
    /// The RFC 4121 token header with the rotated checksum (what SSPI's EncryptMessage puts
    /// in its token buffer).
    pub header: Vec<u8>,
    /// The ciphertext (and the padding, if the enctype has any).
    pub data: Vec<u8>,
}

impl Context {
    fn empty(g: &'static Gss) -> Context {
        Context(Handle::none(g, Kind::Context))
    }

    /// Seals one body the way WinRM expects: `gss_wrap_iov` with header, data and padding
    /// buffers and no trailer, so the checksum rotates into the header (RRC), as SSPI does.
    pub fn wrap_winrm(&mut self, plaintext: &[u8]) -> Result<Wrapped> {
        let (g, raw) = (self.0.g, self.0.raw);
        let mut data = plaintext.to_vec();
        let mut iov = [
            gss_iov_buffer_desc {
                type_: GSS_IOV_BUFFER_TYPE_HEADER,
                buffer: gss_buffer_desc::EMPTY,
            },
            gss_iov_buffer_desc {
                type_: GSS_IOV_BUFFER_TYPE_DATA,
                buffer: gss_buffer_desc {
                    length: data.len(),
                    value: data.as_mut_ptr().cast(),
                },
            },
            gss_iov_buffer_desc {
                type_: GSS_IOV_BUFFER_TYPE_PADDING,
                buffer: gss_buffer_desc::EMPTY,
            },
        ];
        let (mut minor, mut conf) = (0, 0);
        // SAFETY: the IOV array describes live buffers; wrap_iov_length only fills lengths.
        let major =
            unsafe { (g.wrap_iov_length)(&mut minor, raw, 1, 0, &mut conf, iov.as_mut_ptr(), 3) };
        check(g, "wrap", major, minor)?;
        let mut header = vec![0u8; iov[0].buffer.length];
        let mut padding = vec![0u8; iov[2].buffer.length];
        iov[0].buffer.value = header.as_mut_ptr().cast();
        iov[2].buffer.value = padding.as_mut_ptr().cast();
        // SAFETY: each IOV points at a buffer of exactly the length the library asked for;
        // the data buffer is encrypted in place.
        let major = unsafe { (g.wrap_iov)(&mut minor, raw, 1, 0, &mut conf, iov.as_mut_ptr(), 3) };
        check(g, "wrap", major, minor)?;
        if conf == 0 {
            return Err(KerberosError::new("wrap", "the context cannot encrypt"));
        }
        data.extend_from_slice(&padding[..iov[2].buffer.length]);
        header.truncate(iov[0].buffer.length);
        Ok(Wrapped { header, data })
    }

    /// Unseals one body: header ‖ ciphertext is a whole RFC 4121 wrap token.
    pub fn unwrap_winrm(&mut self, header: &[u8], data: &[u8]) -> Result<Vec<u8>> {
        let (g, raw) = (self.0.g, self.0.raw);
        let mut token = Vec::with_capacity(header.len() + data.len());
        token.extend_from_slice(header);
        token.extend_from_slice(data);
        let mut input = gss_buffer_desc::borrowed(&token);
        let (mut minor, mut out, mut conf) = (0, gss_buffer_desc::EMPTY, 0);
        // SAFETY: the input borrows `token`; the output is released by take_buffer.
        let major = unsafe {
            (g.unwrap)(
                &mut minor,
                raw,
                &mut input,
                &mut out,
                &mut conf,
                ptr::null_mut(),
            )
        };
        let plain = take_buffer(g, &mut out);
        check(g, "unwrap", major, minor)?;
        // Supplementary bits: a replayed, stale or out-of-order body.
        if major != GSS_S_COMPLETE {
            return Err(KerberosError::new("unwrap", status_text(g, major, minor)));
        }
        if conf == 0 {
            return Err(KerberosError::new(
                "unwrap",
                "the body was signed but not encrypted",
            ));
        }
        Ok(plain)
    }
}
