//! `parse(write(m)) == m` for generated model values, in both prefix styles.

use proptest::prelude::*;
use wsman_harness::envelope::*;
use wsman_harness::ns;
use wsman_harness::xml::{Attribute, Element, Fragment, PrefixStyle, QName};

const CUSTOM_NS: &str = "http://example.org/wsman-harness/test";

fn text() -> impl Strategy<Value = String> {
    "[ -~\t\n\r\u{e9}\u{4e2d}\u{1F600}]{0,24}"
}

fn word() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9_]{0,10}"
}

fn mu() -> impl Strategy<Value = Vec<Attribute>> {
    prop_oneof![
        Just(vec![]),
        Just(vec![Attribute::qualified(
            QName::new(ns::SOAP, "mustUnderstand"),
            "true"
        )]),
        Just(vec![Attribute::qualified(
            QName::new(ns::SOAP, "mustUnderstand"),
            "false"
        )]),
    ]
}

fn text_block() -> impl Strategy<Value = Text> {
    (text(), mu()).prop_map(|(value, attrs)| Text { value, attrs })
}

fn header_block() -> impl Strategy<Value = HeaderBlock> {
    prop_oneof![
        text_block().prop_map(HeaderBlock::To),
        text_block().prop_map(HeaderBlock::Action),
        text_block().prop_map(HeaderBlock::MessageId),
        text_block().prop_map(HeaderBlock::RelatesTo),
        text_block().prop_map(HeaderBlock::ResourceUri),
        text_block().prop_map(HeaderBlock::MaxEnvelopeSize),
        text_block().prop_map(HeaderBlock::OperationTimeout),
        text_block().prop_map(HeaderBlock::Locale),
        text_block().prop_map(HeaderBlock::DataLocale),
        text_block().prop_map(HeaderBlock::SessionId),
        text_block().prop_map(HeaderBlock::OperationId),
        text_block().prop_map(HeaderBlock::SequenceId),
        text_block().prop_map(HeaderBlock::ActivityId),
        text_block().prop_map(HeaderBlock::CompressionType),
        text_block().prop_map(HeaderBlock::FragmentTransfer),
        Just(HeaderBlock::ReplyTo(Epr::anonymous())),
        (text(), mu()).prop_map(|(a, attrs)| HeaderBlock::FaultTo(Epr {
            attrs,
            address: Text::new(a),
            reference_parameters: None
        })),
        prop::collection::vec((word(), text()), 0..4).prop_map(|v| HeaderBlock::SelectorSet(
            SelectorSet {
                attrs: vec![],
                selectors: v
                    .into_iter()
                    .map(|(name, t)| Selector {
                        name,
                        value: SelectorValue::Text(t)
                    })
                    .collect(),
            }
        )),
        (
            prop::collection::vec((word(), text(), any::<bool>()), 0..4),
            mu()
        )
            .prop_map(|(v, attrs)| HeaderBlock::OptionSet(OptionSet {
                attrs,
                options: v
                    .into_iter()
                    .map(|(name, value, comply)| WsOption {
                        name,
                        value,
                        attrs: if comply {
                            vec![Attribute::plain("MustComply", "true")]
                        } else {
                            vec![]
                        },
                    })
                    .collect(),
            })),
        (word(), text(), mu()).prop_map(|(l, t, attrs)| {
            let mut e = Element::with_text(QName::owned(CUSTOM_NS, &l), t);
            e.attrs = attrs;
            HeaderBlock::Unknown(e)
        }),
    ]
}

fn resource() -> impl Strategy<Value = Element> {
    (word(), prop::collection::vec((word(), text()), 0..5)).prop_map(|(root, fields)| {
        let mut e = Element::new(QName::owned(CUSTOM_NS, &root));
        for (n, t) in fields {
            e = e.child(Element::with_text(QName::owned(CUSTOM_NS, &n), t));
        }
        e
    })
}

fn opt_text() -> impl Strategy<Value = Option<String>> {
    prop::option::of(text())
}

fn batch() -> impl Strategy<Value = EnumerationBatch> {
    (
        opt_text(),
        prop::option::of((any::<bool>(), prop::collection::vec(resource(), 0..4))),
        prop::option::of(any::<bool>()),
        0..3u8,
    )
        .prop_map(|(context, items, eos, at)| {
            let items = items.map(|(wsman, v)| Items {
                ns: if wsman {
                    EnumNs::Wsman
                } else {
                    EnumNs::Enumeration
                },
                items: v.into_iter().map(Fragment::from).collect(),
            });
            let end_of_sequence = eos.map(|w| {
                if w {
                    EnumNs::Wsman
                } else {
                    EnumNs::Enumeration
                }
            });
            // Only positions that a reader can tell apart are generated.
            let context_at = match at {
                1 if context.is_some() && items.is_some() => ContextAt::AfterItems,
                2 if context.is_some() && end_of_sequence.is_some() => ContextAt::Last,
                _ => ContextAt::BeforeItems,
            };
            EnumerationBatch {
                expires: None,
                context,
                items,
                end_of_sequence,
                context_at,
            }
        })
}

fn stream() -> impl Strategy<Value = Stream> {
    (
        word(),
        opt_text(),
        prop::collection::vec(any::<u8>(), 0..40),
        any::<bool>(),
    )
        .prop_map(|(name, cid, data, end)| {
            let mut s = Stream::new(&name, cid.as_deref(), &data);
            if end {
                s.end = Some("true".into());
            }
            s
        })
}

fn fault() -> impl Strategy<Value = Fault> {
    (
        prop::sample::select(vec!["Sender", "Receiver"]),
        prop::option::of(prop::sample::select(vec![
            (ns::WSMAN, "TimedOut"),
            (ns::ADDRESSING, "ActionNotSupported"),
            (ns::ENUMERATION, "InvalidEnumerationContext"),
            (CUSTOM_NS, "Custom"),
        ])),
        prop::collection::vec((opt_text(), text()), 1..3),
        prop::option::of(text()),
    )
        .prop_map(|(code, sub, reasons, detail)| Fault {
            code: QName::owned(ns::SOAP, code),
            subcode: sub.map(|(n, l)| QName::owned(n, l)),
            reasons: reasons
                .into_iter()
                .map(|(lang, text)| Reason { lang, text })
                .collect(),
            node: None,
            role: None,
            detail: detail.map(|d| {
                Element::new(QName::new(ns::SOAP, "Detail"))
                    .child(Element::with_text(QName::new(ns::WSMAN, "FaultDetail"), d))
            }),
        })
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        Just(Body::Empty),
        Just(Body::Identify(Identify::default())),
        (
            prop::collection::vec(text(), 0..2),
            opt_text(),
            opt_text(),
            prop::option::of(prop::collection::vec(text(), 0..3))
        )
            .prop_map(
                |(protocol_versions, product_vendor, product_version, security_profiles)| {
                    Body::IdentifyResponse(IdentifyResponse {
                        namespace: ns::IDENTITY.into(),
                        protocol_versions,
                        product_vendor,
                        product_version,
                        extra: vec![],
                        security_profiles,
                    })
                }
            ),
        (
            opt_text(),
            any::<bool>(),
            opt_text(),
            opt_text(),
            prop::option::of((any::<bool>(), text()))
        )
            .prop_map(
                |(expires, optimize, max_elements, mode, filter)| Body::Enumerate(Enumerate {
                    expires,
                    optimize,
                    max_elements,
                    mode,
                    filter: filter.map(|(wsman, t)| Filter {
                        element: Element::with_text(
                            QName::new(if wsman { ns::WSMAN } else { ns::ENUMERATION }, "Filter"),
                            t,
                        )
                        .attr(Attribute::plain(
                            "Dialect",
                            "http://schemas.microsoft.com/wbem/wsman/1/WQL"
                        )),
                    }),
                })
            ),
        (text(), opt_text(), opt_text(), opt_text()).prop_map(
            |(context, max_time, max_elements, max_characters)| {
                Body::Pull(Pull {
                    context,
                    max_time,
                    max_elements,
                    max_characters,
                })
            }
        ),
        text().prop_map(|context| Body::Release(Release { context })),
        batch().prop_map(|b| Body::PullResponse(PullResponse(b))),
        batch().prop_map(|b| Body::EnumerateResponse(EnumerateResponse(b))),
        prop::collection::vec((word(), text()), 0..4).prop_map(|f| {
            let mut s = Shell::default();
            for (n, t) in f {
                s.children
                    .push(Element::with_text(QName::owned(ns::SHELL, &n), t));
            }
            Body::Shell(s)
        }),
        (
            opt_text(),
            prop::collection::vec(text(), 0..3),
            any::<bool>()
        )
            .prop_map(|(command, arguments, first)| {
                let arguments_first = !arguments.is_empty() && (command.is_none() || first);
                Body::CommandLine(CommandLine {
                    attrs: vec![],
                    command,
                    arguments,
                    arguments_first,
                })
            }),
        text().prop_map(|command_id| Body::CommandResponse(CommandResponse { command_id })),
        prop::collection::vec(stream(), 0..3).prop_map(|streams| Body::Send(Send { streams })),
        prop::collection::vec((opt_text(), any::<bool>(), text()), 0..3).prop_map(|d| {
            Body::Receive(Receive {
                attrs: vec![],
                desired: d
                    .into_iter()
                    .map(|(command_id, qualified, streams)| DesiredStream {
                        qualified_id: qualified && command_id.is_some(),
                        command_id,
                        streams,
                    })
                    .collect(),
            })
        }),
        (
            prop::collection::vec(stream(), 0..3),
            prop::option::of((opt_text(), text(), opt_text()))
        )
            .prop_map(|(streams, cs)| Body::ReceiveResponse(ReceiveResponse {
                attrs: vec![],
                streams,
                command_state: cs.map(|(command_id, state, exit_code)| CommandState {
                    command_id,
                    state,
                    exit_code
                }),
            })),
        (opt_text(), text())
            .prop_map(|(command_id, code)| Body::Signal(Signal { command_id, code })),
        Just(Body::SignalResponse(SignalResponse)),
        fault().prop_map(Body::Fault),
        resource().prop_map(|e| Body::Other(vec![Fragment::from(e)])),
    ]
}

fn envelope() -> impl Strategy<Value = Envelope> {
    (
        prop::option::of(prop::collection::vec(header_block(), 0..8)),
        body(),
        any::<bool>(),
    )
        .prop_map(|(blocks, body, lang)| {
            let mut env = Envelope {
                header: blocks.map(|blocks| Header {
                    attrs: vec![],
                    blocks,
                }),
                body,
                ..Envelope::default()
            };
            if lang {
                env.attrs
                    .push(Attribute::qualified(QName::new(ns::XML, "lang"), "en-US"));
            }
            env
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_of_write_is_identity(env in envelope()) {
        for style in [PrefixStyle::Windows, PrefixStyle::Preserve] {
            let xml = write(&env, style);
            let back = parse(xml.as_bytes()).map_err(|e| TestCaseError::fail(format!("{e}\n{xml}")))?;
            prop_assert_eq!(&back, &env, "{}", xml);
            // Writing again is stable text, not just an equal model.
            prop_assert_eq!(write(&back, style), xml);
        }
    }
}
