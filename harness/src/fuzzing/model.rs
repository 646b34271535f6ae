//! The structure-aware fuzz target: fuzzer bytes drive an `arbitrary::Unstructured` that
//! builds a *request* envelope from the model — header blocks with values drawn from real
//! actions and resource URIs or from arbitrary XML-safe text, and every request body kind —
//! so that coverage guidance explores what servers see, not what an XML lexer rejects.

use arbitrary::{Result, Unstructured};

use crate::envelope::*;
use crate::ns;
use crate::xml::{Attribute, Element, Fragment, QName};

/// A request envelope built from the input.
pub fn request(u: &mut Unstructured<'_>) -> Result<Envelope> {
    let header = if u.ratio(1, 8)? {
        None
    } else {
        let n = u.int_in_range(0..=12)?;
        let mut blocks = Vec::with_capacity(n);
        for _ in 0..n {
            blocks.push(header_block(u)?);
        }
        Some(Header {
            attrs: Vec::new(),
            blocks,
        })
    };
    let mut env = Envelope {
        header,
        body: body(u)?,
        ..Envelope::default()
    };
    if u.ratio(1, 4)? {
        env.attrs
            .push(Attribute::qualified(QName::new(ns::XML, "lang"), "en-US"));
    }
    Ok(env)
}

const ACTIONS: &[&str] = &[
    ns::action::GET,
    ns::action::PUT,
    ns::action::CREATE,
    ns::action::DELETE,
    ns::action::ENUMERATE,
    ns::action::PULL,
    ns::action::RELEASE,
    "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command",
    "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send",
    "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Receive",
    "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Signal",
    "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_Service/StartService",
];

const RESOURCES: &[&str] = &[
    ns::CMD_SHELL_URI,
    crate::server::PROCESS_URI,
    crate::server::LISTENER_URI,
    "http://schemas.microsoft.com/wbem/wsman/1/config",
    "http://schemas.microsoft.com/wbem/wsman/1/config/service",
    "http://schemas.microsoft.com/wbem/wsman/1/config/winrs",
    "http://schemas.microsoft.com/wbem/wsman/1/config/service/auth",
];

const NUMBERS: &[&str] = &[
    "0",
    "1",
    "8191",
    "8192",
    "153600",
    "153601",
    "32000",
    "32001",
    "4294967296",
    "-1",
    "PT0S",
    "PT60S",
    "PT60.001S",
    "PT0.5S",
    "P1Y",
    "PT",
    "",
];

/// Text: a known value, a boundary number, or arbitrary characters XML can carry.
fn text(u: &mut Unstructured<'_>, known: &[&str]) -> Result<String> {
    Ok(match u.int_in_range(0..=3)? {
        0 if !known.is_empty() => (*u.choose(known)?).to_owned(),
        1 => (*u.choose(NUMBERS)?).to_owned(),
        _ => {
            let s: String = u.arbitrary()?;
            s.chars().filter(|c| xml_char(*c)).take(64).collect()
        }
    })
}

/// Characters XML 1.0 can carry.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

fn word(u: &mut Unstructured<'_>) -> Result<String> {
    let names = [
        "ShellId",
        "Name",
        "Address",
        "Transport",
        "Handle",
        "__cimnamespace",
        "WINRS_CODEPAGE",
        "x",
    ];
    Ok((*u.choose(&names)?).to_owned())
}

fn mu(u: &mut Unstructured<'_>) -> Result<Vec<Attribute>> {
    Ok(match u.int_in_range(0..=3)? {
        0 => vec![Attribute::qualified(
            QName::new(ns::SOAP, "mustUnderstand"),
            "true",
        )],
        1 => vec![Attribute::qualified(
            QName::new(ns::SOAP, "mustUnderstand"),
            "false",
        )],
        _ => Vec::new(),
    })
}

fn text_block(u: &mut Unstructured<'_>, known: &[&str]) -> Result<Text> {
    Ok(Text {
        value: text(u, known)?,
        attrs: mu(u)?,
    })
}

fn header_block(u: &mut Unstructured<'_>) -> Result<HeaderBlock> {
    Ok(match u.int_in_range(0..=12)? {
        0 => HeaderBlock::To(text_block(u, &["http://127.0.0.1:5985/wsman"])?),
        1 => HeaderBlock::Action(text_block(u, ACTIONS)?),
        2 => HeaderBlock::MessageId(text_block(
            u,
            &["uuid:6AF475D7-A946-4062-8F49-29D12B34F8A3"],
        )?),
        3 => HeaderBlock::ResourceUri(text_block(u, RESOURCES)?),
        4 => HeaderBlock::MaxEnvelopeSize(text_block(u, NUMBERS)?),
        5 => HeaderBlock::OperationTimeout(text_block(u, NUMBERS)?),
        6 => HeaderBlock::Locale(text_block(u, &["en-US"])?),
        7 => HeaderBlock::ReplyTo(Epr::anonymous()),
        8 => HeaderBlock::RelatesTo(text_block(u, &[])?),
        9 => {
            let n = u.int_in_range(0..=3)?;
            let mut selectors = Vec::with_capacity(n);
            for _ in 0..n {
                selectors.push(Selector {
                    name: word(u)?,
                    value: SelectorValue::Text(text(u, &["*", "HTTP", "HTTPS", "1"])?),
                });
            }
            HeaderBlock::SelectorSet(SelectorSet {
                attrs: Vec::new(),
                selectors,
            })
        }
        10 => {
            let n = u.int_in_range(0..=3)?;
            let mut options = Vec::with_capacity(n);
            for _ in 0..n {
                options.push(WsOption {
                    name: (*u.choose(&[
                        "WINRS_NOPROFILE",
                        "WINRS_CODEPAGE",
                        "WINRS_CONSOLEMODE_STDIN",
                        "x",
                    ])?)
                    .to_owned(),
                    value: text(u, &["TRUE", "FALSE", "437", "65001"])?,
                    attrs: if u.arbitrary()? {
                        vec![Attribute::plain("MustComply", "true")]
                    } else {
                        Vec::new()
                    },
                });
            }
            HeaderBlock::OptionSet(OptionSet {
                attrs: mu(u)?,
                options,
            })
        }
        11 => HeaderBlock::SessionId(text_block(u, &[])?),
        _ => {
            let mut e = Element::with_text(
                QName::new("urn:wsman-harness:fuzz", "Unknown"),
                text(u, &[])?,
            );
            e.attrs = mu(u)?;
            HeaderBlock::Unknown(e)
        }
    })
}

fn opt(u: &mut Unstructured<'_>, known: &[&str]) -> Result<Option<String>> {
    Ok(if u.arbitrary()? {
        Some(text(u, known)?)
    } else {
        None
    })
}

fn body(u: &mut Unstructured<'_>) -> Result<Body> {
    Ok(match u.int_in_range(0..=10)? {
        0 => Body::Empty,
        1 => Body::Identify(Identify::default()),
        2 => Body::Enumerate(Enumerate {
            expires: opt(u, &["PT60S"])?,
            optimize: u.arbitrary()?,
            max_elements: opt(u, NUMBERS)?,
            mode: opt(u, &["EnumerateEPR", "EnumerateObjectAndEPR"])?,
            filter: None,
        }),
        3 => Body::Pull(Pull {
            context: text(u, &["uuid:733A0655-10B0-4585-B849-F9027644F66C"])?,
            max_time: opt(u, NUMBERS)?,
            max_elements: opt(u, NUMBERS)?,
            max_characters: opt(u, NUMBERS)?,
        }),
        4 => Body::Release(Release {
            context: text(u, &[])?,
        }),
        5 => {
            let mut s = Shell::default();
            for _ in 0..u.int_in_range(0..=3)? {
                let name = *u.choose(&[
                    "InputStreams",
                    "OutputStreams",
                    "WorkingDirectory",
                    "Lifetime",
                    "IdleTimeOut",
                ])?;
                s.children.push(Element::with_text(
                    QName::new(ns::SHELL, name),
                    text(u, &["stdin", "stdout stderr", "PT60S"])?,
                ));
            }
            Body::Shell(s)
        }
        6 => {
            let command = opt(u, &["echo", "exit", "type", "hostname", "big"])?;
            let mut arguments = Vec::new();
            for _ in 0..u.int_in_range(0..=3)? {
                arguments.push(text(u, &["hello", "3", "100000"])?);
            }
            let arguments_first = !arguments.is_empty() && (command.is_none() || u.arbitrary()?);
            Body::CommandLine(CommandLine {
                attrs: Vec::new(),
                command,
                arguments,
                arguments_first,
            })
        }
        7 => {
            let mut streams = Vec::new();
            for _ in 0..u.int_in_range(0..=2)? {
                let data: Vec<u8> = u.arbitrary()?;
                let cid = opt(u, &[])?;
                let mut s = Stream::new("stdin", cid.as_deref(), &data[..data.len().min(256)]);
                if u.arbitrary()? {
                    s.end = Some("true".into());
                }
                streams.push(s);
            }
            Body::Send(Send { streams })
        }
        8 => {
            let mut desired = Vec::new();
            for _ in 0..u.int_in_range(0..=2)? {
                let command_id = opt(u, &[])?;
                desired.push(DesiredStream {
                    qualified_id: command_id.is_some() && u.arbitrary()?,
                    command_id,
                    streams: text(u, &["stdout stderr", "stdout", ""])?,
                });
            }
            Body::Receive(Receive {
                attrs: Vec::new(),
                desired,
            })
        }
        9 => Body::Signal(Signal {
            command_id: opt(u, &[])?,
            code: text(u, &[ns::signal::TERMINATE, ns::signal::CTRL_C])?,
        }),
        _ => {
            let mut e = Element::new(QName::new(
                ns::CONFIG,
                u.choose(&["Config", "Service", "Winrs", "Listener"])?,
            ));
            for _ in 0..u.int_in_range(0..=4)? {
                let name = *u.choose(&[
                    "MaxEnvelopeSizekb",
                    "AllowUnencrypted",
                    "IdleTimeout",
                    "Address",
                    "Port",
                    "Enabled",
                    "x",
                ])?;
                e = e.child(Element::with_text(
                    QName::new(ns::CONFIG, name),
                    text(u, NUMBERS)?,
                ));
            }
            Body::Other(vec![Fragment::from(e)])
        }
    })
}
