//! The oracle: what counts as a finding. Every answer must be a well-formed HTTP response,
//! in time, with a well-formed SOAP envelope when it says it carries one; a 5xx must carry a
//! SOAP fault; a request whose credentials or integrity were broken must be refused. After a
//! suspicious case a liveness probe (Identify on a new connection) tells a crashed or wedged
//! server from one that only mishandled a request.

use std::time::{Duration, Instant};

use super::exec::{FuzzTarget, StepOutcome, StepResult};
use super::wire::{RawConn, ReadError};
use crate::ns;

/// The kinds of finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Bucket {
    /// The server stopped accepting connections.
    Crash,
    /// A request, or the whole server, got no answer in time.
    Hang,
    /// A 5xx answer without a SOAP fault.
    ServerErrorWithoutFault,
    /// An answer that is not well-formed HTTP, or not the envelope it claims to be, or a
    /// connection dropped without an answer.
    MalformedResponse,
    /// A request with broken credentials or integrity was served.
    AcceptedInvalidAuth,
}

impl Bucket {
    /// Every bucket, in report order.
    pub const ALL: [Bucket; 5] = [
        Bucket::Crash,
        Bucket::Hang,
        Bucket::ServerErrorWithoutFault,
        Bucket::MalformedResponse,
        Bucket::AcceptedInvalidAuth,
    ];

    /// The name used in reports and file names.
    pub fn name(self) -> &'static str {
        match self {
            Bucket::Crash => "crash",
            Bucket::Hang => "hang",
            Bucket::ServerErrorWithoutFault => "5xx-without-fault",
            Bucket::MalformedResponse => "malformed-response",
            Bucket::AcceptedInvalidAuth => "accepted-invalid-auth",
        }
    }
}

impl std::fmt::Display for Bucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A step that broke a rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suspicion {
    /// The kind.
    pub bucket: Bucket,
    /// Which step.
    pub step: usize,
    /// What was seen.
    pub detail: String,
}

/// Judges the steps of a case; the first step that broke a rule is the suspicion.
pub fn judge(outcomes: &[StepOutcome]) -> Option<Suspicion> {
    outcomes.iter().find_map(|o| {
        judge_step(o).map(|(bucket, detail)| Suspicion {
            bucket,
            step: o.index,
            detail,
        })
    })
}

fn judge_step(o: &StepOutcome) -> Option<(Bucket, String)> {
    let integrity_broken = o.applied.iter().any(|m| m.breaks_integrity());
    match &o.result {
        StepResult::Connect(e) => Some((Bucket::Crash, format!("no connection: {e}"))),
        // A write fails when the server closed first: the probe decides whether it is down.
        StepResult::Send(_) if o.framing_broken => None,
        StepResult::Send(e) => Some((
            Bucket::MalformedResponse,
            format!("the request could not be sent: {e}"),
        )),
        StepResult::Handshake { status, detail } => match status {
            200 if integrity_broken => Some((
                Bucket::AcceptedInvalidAuth,
                format!("handshake accepted although {}", described(o)),
            )),
            s if *s >= 500 && *s != 503 => Some((
                Bucket::ServerErrorWithoutFault,
                format!("HTTP {s} during the handshake ({detail})"),
            )),
            _ => None,
        },
        StepResult::Read(ReadError::Timeout { received }) => Some((
            Bucket::Hang,
            format!(
                "no complete answer in time ({received} bytes arrived){}",
                applied_note(o)
            ),
        )),
        StepResult::Read(ReadError::Closed { received: 0, .. })
            if o.framing_broken || integrity_broken =>
        {
            // Closing on a malformed request or a refused handshake is a fair answer.
            None
        }
        StepResult::Read(e) => Some((Bucket::MalformedResponse, format!("{e}{}", applied_note(o)))),
        StepResult::Answered(answers) => answers.iter().find_map(|a| {
            let status = a.raw.status;
            if let Some(e) = &a.unseal_error {
                return Some((
                    Bucket::MalformedResponse,
                    format!("HTTP {status}: a sealed body that does not unseal: {e}"),
                ));
            }
            let soap = looks_like_soap(a.raw.header("Content-Type"), &a.plain);
            let tree = if soap && !a.plain.is_empty() {
                match a.tree() {
                    Ok(t)
                        if t.name.is(ns::SOAP, "Envelope") || t.name.is(ns::SOAP11, "Envelope") =>
                    {
                        Some(t)
                    }
                    Ok(t) => {
                        return Some((
                            Bucket::MalformedResponse,
                            format!("HTTP {status}: labelled SOAP, but the root is {}", t.name),
                        ));
                    }
                    Err(e) => {
                        return Some((
                            Bucket::MalformedResponse,
                            format!("HTTP {status}: labelled SOAP, but not XML: {e}"),
                        ));
                    }
                }
            } else {
                None
            };
            let fault = tree.is_some_and(is_fault);
            if status >= 500 && status != 503 && !fault {
                // WinRM answers an unencrypted body it refuses with an empty 500 (MS-WSMV
                // 3.1.4.1.2 leaves the status to the server); that is the expected answer.
                let refused_clear = status == 500 && a.plain.is_empty() && o.clear_on_sealing;
                if !refused_clear {
                    return Some((
                        Bucket::ServerErrorWithoutFault,
                        format!("HTTP {status} without a SOAP fault{}", applied_note(o)),
                    ));
                }
            }
            if integrity_broken && (200..300).contains(&status) && tree.is_some() && !fault {
                return Some((
                    Bucket::AcceptedInvalidAuth,
                    format!("HTTP {status} with a response although {}", described(o)),
                ));
            }
            None
        }),
    }
}

fn described(o: &StepOutcome) -> String {
    let broken: Vec<String> = o
        .applied
        .iter()
        .filter(|m| m.breaks_integrity())
        .map(ToString::to_string)
        .collect();
    format!("the request was {}", broken.join(", "))
}

fn applied_note(o: &StepOutcome) -> String {
    if o.applied.is_empty() {
        String::new()
    } else {
        let all: Vec<String> = o.applied.iter().map(ToString::to_string).collect();
        format!(" [{}]", all.join(", "))
    }
}

/// True when the answer says it carries XML (or carries something that starts like it).
fn looks_like_soap(content_type: Option<&str>, body: &[u8]) -> bool {
    match content_type.map(str::to_ascii_lowercase) {
        // A sealed body was unsealed already: what it is shows in the plain text.
        Some(t) if t.starts_with("multipart/") => body.trim_ascii_start().starts_with(b"<"),
        Some(t) => t.contains("xml"),
        None => body.trim_ascii_start().starts_with(b"<"),
    }
}

fn is_fault(tree: &crate::xml::Element) -> bool {
    tree.elements()
        .find(|e| e.name.local == "Body")
        .and_then(|b| b.elements().next())
        .is_some_and(|e| e.name.local == "Fault")
}

/// What the liveness probe found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Liveness {
    /// Some well-formed HTTP answer came.
    Alive,
    /// No connection, or it closed without an answer.
    Down(String),
    /// A connection, but no answer in time.
    Wedged,
}

/// Identify, unauthenticated (`WSMANIDENTIFY: unauthenticated`), on a new connection: any
/// well-formed HTTP answer (even 401) shows the server alive.
pub fn probe(target: &FuzzTarget) -> Liveness {
    let mut conn =
        match RawConn::connect(&target.client.target, target.tls.as_ref(), target.timeout) {
            Ok(c) => c,
            Err(e) => return Liveness::Down(e),
        };
    let body = crate::check::ctx::Ctx::identify_bytes();
    let t = &target.client.target;
    let mut request = format!(
        "POST {} HTTP/1.1\r\nHost: {}:{}\r\nContent-Type: application/soap+xml;charset=UTF-8\r\n\
         WSMANIDENTIFY: unauthenticated\r\nContent-Length: {}\r\n\r\n",
        t.path,
        t.host,
        t.port,
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    let deadline = Instant::now() + target.timeout.min(Duration::from_secs(10));
    if let Err(e) = conn.write(&request, None, deadline) {
        return Liveness::Down(e);
    }
    match conn.read_response(deadline, 1 << 20, false) {
        Ok(_) => Liveness::Alive,
        Err(ReadError::Timeout { .. }) => Liveness::Wedged,
        Err(ReadError::Closed { .. }) => {
            Liveness::Down("the connection closed without an answer".into())
        }
        // Bytes came back: something is listening, even if it speaks badly.
        Err(_) => Liveness::Alive,
    }
}

/// A suspicion refined by the probe: a server that no longer answers makes it a crash (or a
/// hang when it accepts connections but answers nothing).
pub fn confirm_with_probe(s: Suspicion, target: &FuzzTarget) -> (Suspicion, Liveness) {
    let live = probe(target);
    let s = match &live {
        Liveness::Alive => s,
        Liveness::Down(why) => Suspicion {
            bucket: Bucket::Crash,
            detail: format!("{}; then the server was down ({why})", s.detail),
            ..s
        },
        Liveness::Wedged => Suspicion {
            bucket: Bucket::Hang,
            detail: format!(
                "{}; then the server answered no Identify (wedged)",
                s.detail
            ),
            ..s
        },
    };
    (s, live)
}
