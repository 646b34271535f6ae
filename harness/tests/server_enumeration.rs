//! Enumeration over the sample collection and shell quotas, driven in memory.

use wsman_harness::envelope::*;
use wsman_harness::ns::{self, action};
use wsman_harness::server::{PROCESS_URI, RequestContext, ServerConfig, Service};
use wsman_harness::xml::PrefixStyle;

fn ctx(user: &str) -> RequestContext {
    RequestContext {
        user: Some(user.into()),
        deadline_passed: true,
    }
}

fn request(act: &str, resource: &str, body: Body, max_envelope: &str) -> Vec<u8> {
    let h = Header::default()
        .with(HeaderBlock::To(Text::new("http://127.0.0.1:5985/wsman")))
        .with(HeaderBlock::ResourceUri(
            Text::new(resource).must_understand(true),
        ))
        .with(HeaderBlock::ReplyTo(Epr::anonymous()))
        .with(HeaderBlock::Action(Text::new(act).must_understand(true)))
        .with(HeaderBlock::MaxEnvelopeSize(
            Text::new(max_envelope).must_understand(true),
        ))
        .with(HeaderBlock::MessageId(Text::new(
            wsman_harness::ids::new_message_id(),
        )))
        .with(HeaderBlock::OperationTimeout(Text::new("PT60.000S")));
    write(&Envelope::new(h, body), PrefixStyle::Windows).into_bytes()
}

fn service(sets: &[&str], items: usize) -> Service {
    let mut c = ServerConfig {
        collection_size: items,
        ..ServerConfig::default()
    };
    for s in sets {
        c.set(s).unwrap();
    }
    Service::new(c)
}

fn answer(s: &Service, req: &[u8], user: &str) -> Envelope {
    let r = s.handle(req, &ctx(user));
    let limits = wsman_harness::xml::Limits {
        max_bytes: 64 << 20,
        ..Default::default()
    };
    let head: String = r.body.chars().take(300).collect();
    parse_with(r.body.as_bytes(), limits).unwrap_or_else(|e| panic!("{e}: {head}"))
}

/// A request on one instance of the sample collection, by its Handle selector.
fn on_item(s: &Service, act: &str, handle: &str, body: Body) -> Envelope {
    let hdr = Header::default()
        .with(HeaderBlock::ResourceUri(Text::new(PROCESS_URI)))
        .with(HeaderBlock::ReplyTo(Epr::anonymous()))
        .with(HeaderBlock::Action(Text::new(act)))
        .with(HeaderBlock::MessageId(Text::new(
            wsman_harness::ids::new_message_id(),
        )))
        .with(HeaderBlock::SelectorSet(SelectorSet::of(&[(
            "Handle", handle,
        )])));
    answer(
        s,
        &write(&Envelope::new(hdr, body), PrefixStyle::Windows).into_bytes(),
        "vagrant",
    )
}

fn fault_code(env: &Envelope) -> (String, String) {
    let f = env
        .fault()
        .unwrap_or_else(|| panic!("not a fault: {:?}", env.action()));
    (
        f.subcode.as_ref().unwrap_or(&f.code).to_string(),
        f.wsman_fault().map(|w| w.code).unwrap_or_default(),
    )
}

/// Starts a plain enumeration of the sample collection and returns its context.
fn open_enumeration(s: &Service) -> String {
    let env = answer(
        s,
        &request(
            action::ENUMERATE,
            PROCESS_URI,
            Body::Enumerate(Enumerate::default()),
            "153600",
        ),
        "vagrant",
    );
    let Body::EnumerateResponse(r) = env.body else {
        panic!("{:?}", env.fault())
    };
    r.0.context.expect("a context")
}

fn pull(s: &Service, context: &str, max: Option<&str>, max_env: &str) -> Envelope {
    let body = Body::Pull(Pull {
        context: context.into(),
        max_elements: max.map(Into::into),
        ..Pull::default()
    });
    answer(
        s,
        &request(action::PULL, PROCESS_URI, body, max_env),
        "vagrant",
    )
}

#[test]
fn a_collection_larger_than_max_batch_items_pages_to_the_end() {
    let total = 33_000;
    let s = service(&["MaxEnvelopeSizekb=1039440"], total);
    let mut context = open_enumeration(&s);
    let (mut seen, mut pulls) = (0, 0);
    loop {
        let env = pull(&s, &context, Some("40000"), "1064386560");
        let Body::PullResponse(p) = env.body else {
            panic!("{:?}", env.fault())
        };
        let n = p.0.item_count();
        assert!(n <= 32_000, "MaxElements is clamped to MaxBatchItems");
        seen += n;
        pulls += 1;
        if p.0.end_of_sequence.is_some() {
            assert!(p.0.context.is_none());
            break;
        }
        context = p.0.context.unwrap();
    }
    assert_eq!(seen, total);
    assert!(pulls >= 2, "more than one batch: {pulls}");
}

#[test]
fn max_elements_is_clamped_and_envelope_size_cuts_batches() {
    let s = service(&["MaxBatchItems=5"], 50);
    let ctx_id = open_enumeration(&s);
    let Body::PullResponse(p) = pull(&s, &ctx_id, Some("10"), "153600").body else {
        panic!()
    };
    assert_eq!(p.0.item_count(), 5, "10 clamped to MaxBatchItems=5");
    let Body::PullResponse(p) = pull(&s, &ctx_id, None, "153600").body else {
        panic!()
    };
    assert_eq!(p.0.item_count(), 1, "absent MaxElements means 1");
    let s = service(&[], 500);
    let Body::PullResponse(p) = pull(&s, &open_enumeration(&s), Some("100"), "8192").body else {
        panic!()
    };
    assert!(
        p.0.item_count() > 1 && p.0.item_count() < 100,
        "an 8 KB envelope holds fewer items: {}",
        p.0.item_count()
    );
    let written = write(
        &Envelope::new(Header::default(), Body::PullResponse(p)),
        PrefixStyle::Windows,
    );
    assert!(written.len() <= 8192, "{}", written.len());
}

#[test]
fn optimized_enumeration_that_fits_ends_with_an_empty_context() {
    let s = service(&[], 3);
    let e = Enumerate {
        optimize: true,
        max_elements: Some("32000".into()),
        ..Enumerate::default()
    };
    let env = answer(
        &s,
        &request(action::ENUMERATE, PROCESS_URI, Body::Enumerate(e), "153600"),
        "vagrant",
    );
    let Body::EnumerateResponse(r) = env.body else {
        panic!("{env:?}")
    };
    assert_eq!(r.0.item_count(), 3);
    assert_eq!(r.0.context.as_deref(), Some(""));
    assert_eq!(r.0.end_of_sequence, Some(EnumNs::Wsman));
    assert_eq!(r.0.items.unwrap().ns, EnumNs::Wsman);
}

#[test]
fn released_and_expired_contexts_are_invalid() {
    let s = service(&["Service/EnumerationTimeoutms=500"], 10);
    let open = || open_enumeration(&s);
    let c = open();
    let rel = answer(
        &s,
        &request(
            action::RELEASE,
            PROCESS_URI,
            Body::Release(Release { context: c.clone() }),
            "153600",
        ),
        "vagrant",
    );
    assert_eq!(rel.action(), Some(action::RELEASE_RESPONSE));
    assert_eq!(
        fault_code(&pull(&s, &c, None, "153600")),
        ("n:InvalidEnumerationContext".into(), "2150858779".into())
    );
    let c = open();
    std::thread::sleep(std::time::Duration::from_millis(700));
    assert_eq!(
        fault_code(&pull(&s, &c, None, "153600")).0,
        "n:InvalidEnumerationContext"
    );
    // Another user's context is not theirs to pull.
    let c = open();
    let body = Body::Pull(Pull {
        context: c,
        ..Pull::default()
    });
    assert_eq!(
        fault_code(&answer(
            &s,
            &request(action::PULL, PROCESS_URI, body, "153600"),
            "mallory"
        ))
        .0,
        "n:InvalidEnumerationContext"
    );
}

#[test]
fn shell_quotas_answer_with_windows_codes() {
    let create = || {
        request(
            action::CREATE,
            ns::CMD_SHELL_URI,
            Body::Shell(Shell::cmd()),
            "153600",
        )
    };
    let s = service(
        &["Winrs/MaxShellsPerUser=1", "Winrs/MaxConcurrentUsers=1"],
        1,
    );
    assert!(answer(&s, &create(), "vagrant").fault().is_none());
    assert_eq!(
        fault_code(&answer(&s, &create(), "vagrant")),
        ("w:QuotaLimit".into(), "2150859173".into())
    );
    assert_eq!(
        fault_code(&answer(&s, &create(), "other")),
        ("w:QuotaLimit".into(), "2150859179".into())
    );
    let s = service(&["Winrs/AllowRemoteShellAccess=false"], 1);
    assert_eq!(
        fault_code(&answer(&s, &create(), "vagrant")),
        ("w:InternalError".into(), "2150859180".into())
    );
    let s = service(&["Service/MaxConcurrentOperationsPerUser=1"], 5);
    let e = || {
        request(
            action::ENUMERATE,
            PROCESS_URI,
            Body::Enumerate(Enumerate::default()),
            "153600",
        )
    };
    assert!(answer(&s, &e(), "vagrant").fault().is_none());
    assert_eq!(fault_code(&answer(&s, &e(), "vagrant")).1, "2150859174");
}

fn listener_request(act: &str, transport: &str, body: Body) -> Vec<u8> {
    let h = Header::default()
        .with(HeaderBlock::ResourceUri(Text::new(
            wsman_harness::server::LISTENER_URI,
        )))
        .with(HeaderBlock::ReplyTo(Epr::anonymous()))
        .with(HeaderBlock::Action(Text::new(act)))
        .with(HeaderBlock::MessageId(Text::new(
            wsman_harness::ids::new_message_id(),
        )))
        .with(HeaderBlock::SelectorSet(SelectorSet::of(&[
            ("Address", "*"),
            ("Transport", transport),
        ])));
    write(&Envelope::new(h, body), PrefixStyle::Windows).into_bytes()
}

fn listener_body(fields: &[(&str, &str)]) -> Body {
    let uri = wsman_harness::server::LISTENER_URI;
    let mut e = wsman_harness::xml::Element::new(wsman_harness::xml::QName::owned(uri, "Listener"));
    for (n, v) in fields {
        e = e.child(wsman_harness::xml::Element::with_text(
            wsman_harness::xml::QName::owned(uri, n),
            *v,
        ));
    }
    Body::Other(vec![e.into()])
}

#[test]
fn listeners_are_created_enumerated_changed_and_deleted() {
    let s = service(&[], 1);
    // None by default, as on Windows before quickconfig.
    let e = request(
        action::ENUMERATE,
        wsman_harness::server::LISTENER_URI,
        Body::Enumerate(Enumerate {
            optimize: true,
            ..Enumerate::default()
        }),
        "153600",
    );
    let Body::EnumerateResponse(r) = answer(&s, &e, "vagrant").body else {
        panic!()
    };
    assert_eq!(r.0.item_count(), 0);
    let created = answer(
        &s,
        &listener_request(action::CREATE, "HTTP", listener_body(&[])),
        "vagrant",
    );
    let Body::ResourceCreated(rc) = created.body else {
        panic!("{:?}", created.fault())
    };
    assert_eq!(rc.selector("Transport").as_deref(), Some("HTTP"));
    assert_eq!(
        fault_code(&answer(
            &s,
            &listener_request(action::CREATE, "HTTP", listener_body(&[])),
            "vagrant"
        ))
        .0,
        "w:AlreadyExists"
    );
    // HTTPS needs a thumbprint; with one it is created on the HTTPS default port.
    assert_eq!(
        fault_code(&answer(
            &s,
            &listener_request(action::CREATE, "HTTPS", listener_body(&[])),
            "vagrant"
        ))
        .0,
        "w:InvalidParameter"
    );
    let thumb = "0123456789ABCDEF0123456789ABCDEF01234567";
    assert!(
        answer(
            &s,
            &listener_request(
                action::CREATE,
                "HTTPS",
                listener_body(&[("Hostname", "h"), ("CertificateThumbprint", thumb)])
            ),
            "vagrant"
        )
        .fault()
        .is_none()
    );
    let got = s
        .handle(
            &listener_request(action::GET, "https", Body::Empty),
            &ctx("vagrant"),
        )
        .body;
    assert!(
        got.contains(">5986<") && got.contains(thumb) && got.contains("ListeningOn"),
        "{got}"
    );
    // Enumerate through Pull sees both.
    let e = request(
        action::ENUMERATE,
        wsman_harness::server::LISTENER_URI,
        Body::Enumerate(Enumerate::default()),
        "153600",
    );
    let Body::EnumerateResponse(r) = answer(&s, &e, "vagrant").body else {
        panic!()
    };
    let p = Body::Pull(Pull {
        context: r.0.context.unwrap(),
        max_elements: Some("10".into()),
        ..Pull::default()
    });
    let Body::PullResponse(p) = answer(
        &s,
        &request(
            action::PULL,
            wsman_harness::server::LISTENER_URI,
            p,
            "153600",
        ),
        "vagrant",
    )
    .body
    else {
        panic!()
    };
    assert_eq!((p.0.item_count(), p.0.end_of_sequence.is_some()), (2, true));
    // Put changes the port; ListeningOn cannot be set.
    let put = answer(
        &s,
        &listener_request(action::PUT, "HTTP", listener_body(&[("Port", "8985")])),
        "vagrant",
    );
    assert!(put.fault().is_none());
    assert!(
        s.handle(
            &listener_request(action::GET, "HTTP", Body::Empty),
            &ctx("vagrant")
        )
        .body
        .contains(">8985<")
    );
    assert_eq!(
        fault_code(&answer(
            &s,
            &listener_request(
                action::PUT,
                "HTTP",
                listener_body(&[("ListeningOn", "1.2.3.4")])
            ),
            "vagrant"
        ))
        .0,
        "w:InternalError"
    );
    // Delete, then it is gone.
    assert!(
        answer(
            &s,
            &listener_request(action::DELETE, "HTTP", Body::Empty),
            "vagrant"
        )
        .fault()
        .is_none()
    );
    assert_eq!(
        fault_code(&answer(
            &s,
            &listener_request(action::GET, "HTTP", Body::Empty),
            "vagrant"
        ))
        .0,
        "a:DestinationUnreachable"
    );
    assert_eq!(s.config().model.listeners.len(), 1);
}

#[test]
fn listening_on_follows_the_ip_filters() {
    let s = service(&["Service/IPv6Filter="], 1);
    assert!(
        answer(
            &s,
            &listener_request(action::CREATE, "HTTP", listener_body(&[])),
            "vagrant"
        )
        .fault()
        .is_none()
    );
    let got = s
        .handle(
            &listener_request(action::GET, "HTTP", Body::Empty),
            &ctx("vagrant"),
        )
        .body;
    assert!(got.contains(">127.0.0.1<"), "{got}");
    assert!(
        !got.contains(">::1<"),
        "a blank IPv6Filter admits no IPv6 address: {got}"
    );
}

#[test]
fn the_sample_collection_supports_put_create_and_delete() {
    let s = service(&[], 3);
    let with_handle = |act: &str, h: &str, body: Body| on_item(&s, act, h, body);
    let process = |name: &str| {
        let q = |l: &str| wsman_harness::xml::QName::owned(PROCESS_URI, l);
        Body::Other(vec![
            wsman_harness::xml::Element::new(q("Win32_Process"))
                .child(wsman_harness::xml::Element::with_text(q("Name"), name))
                .into(),
        ])
    };
    let put = with_handle(action::PUT, "1", process("renamed.exe"));
    assert!(put.fault().is_none());
    let got = with_handle(action::GET, "1", Body::Empty);
    let Body::Other(parts) = &got.body else {
        panic!()
    };
    assert!(
        parts[0]
            .element()
            .unwrap()
            .deep_text()
            .contains("renamed.exe")
    );
    let created = answer(
        &s,
        &request(action::CREATE, PROCESS_URI, process("new.exe"), "153600"),
        "vagrant",
    );
    let Body::ResourceCreated(rc) = created.body else {
        panic!("{:?}", created.fault())
    };
    assert_eq!(rc.selector("Handle").as_deref(), Some("3"));
    assert!(
        with_handle(action::DELETE, "0", Body::Empty)
            .fault()
            .is_none()
    );
    assert_eq!(
        fault_code(&with_handle(action::GET, "0", Body::Empty)).0,
        "a:DestinationUnreachable"
    );
    // Enumeration sees the collection as changed: 3 generated - 1 deleted + 1 created.
    let e = Enumerate {
        optimize: true,
        max_elements: Some("100".into()),
        ..Enumerate::default()
    };
    let Body::EnumerateResponse(r) = answer(
        &s,
        &request(action::ENUMERATE, PROCESS_URI, Body::Enumerate(e), "153600"),
        "vagrant",
    )
    .body
    else {
        panic!()
    };
    assert_eq!(r.0.item_count(), 3);
    assert_eq!(
        fault_code(&with_handle(action::PUT, "1", Body::Empty)).0,
        "w:SchemaValidationError"
    );
}

#[test]
fn a_get_response_larger_than_max_envelope_size_is_an_encoding_limit_fault() {
    let s = service(&[], 3);
    let req = |act: &str, max: &str, body: Body| {
        let hdr = Header::default()
            .with(HeaderBlock::ResourceUri(Text::new(PROCESS_URI)))
            .with(HeaderBlock::ReplyTo(Epr::anonymous()))
            .with(HeaderBlock::Action(Text::new(act)))
            .with(HeaderBlock::MaxEnvelopeSize(Text::new(max)))
            .with(HeaderBlock::MessageId(Text::new(
                wsman_harness::ids::new_message_id(),
            )))
            .with(HeaderBlock::SelectorSet(SelectorSet::of(&[(
                "Handle", "1",
            )])));
        answer(
            &s,
            &write(&Envelope::new(hdr, body), PrefixStyle::Windows).into_bytes(),
            "vagrant",
        )
    };
    // An instance of about 20 KB.
    let q = |l: &str| wsman_harness::xml::QName::owned(PROCESS_URI, l);
    let big = Body::Other(vec![
        wsman_harness::xml::Element::new(q("Win32_Process"))
            .child(wsman_harness::xml::Element::with_text(
                q("CommandLine"),
                "x".repeat(20_000),
            ))
            .into(),
    ]);
    assert!(req(action::PUT, "153600", big).fault().is_none());
    // Too large for 8192 bytes: refused with the catalogue's code, not cut or sent anyway.
    let refused = req(action::GET, "8192", Body::Empty);
    assert_eq!(
        fault_code(&refused),
        ("w:EncodingLimit".to_owned(), "2150858824".to_owned())
    );
    assert!(req(action::GET, "153600", Body::Empty).fault().is_none());
}

#[test]
fn enumeration_modes_return_eprs_or_objects_with_eprs() {
    let s = service(&[], 5);
    let enumerate = |mode: Option<&str>| {
        let e = Enumerate {
            optimize: true,
            max_elements: Some("2".into()),
            mode: mode.map(str::to_owned),
            ..Enumerate::default()
        };
        answer(
            &s,
            &request(action::ENUMERATE, PROCESS_URI, Body::Enumerate(e), "153600"),
            "vagrant",
        )
    };
    let items = |env: &Envelope| -> Vec<wsman_harness::xml::Element> {
        let batch = match &env.body {
            Body::EnumerateResponse(r) => &r.0,
            Body::PullResponse(r) => &r.0,
            _ => panic!("{:?}", env.fault()),
        };
        batch
            .items
            .as_ref()
            .unwrap()
            .items
            .iter()
            .map(|f| f.element().unwrap().into_owned())
            .collect()
    };
    // EnumerateEPR: endpoint references whose selectors reach the instance with a Get.
    let r = enumerate(Some("EnumerateEPR"));
    let eprs = items(&r);
    assert_eq!(eprs.len(), 2);
    for (i, epr) in eprs.iter().enumerate() {
        assert!(
            epr.name.is(ns::ADDRESSING, "EndpointReference"),
            "{:?}",
            epr.name
        );
        let params = epr.find(ns::ADDRESSING, "ReferenceParameters").unwrap();
        assert_eq!(
            params.find(ns::WSMAN, "ResourceURI").unwrap().text(),
            PROCESS_URI
        );
        let handle = params.find(ns::WSMAN, "SelectorSet").unwrap().deep_text();
        assert_eq!(handle, i.to_string());
    }
    // Pull continues in the same mode.
    let Body::EnumerateResponse(er) = &r.body else {
        panic!()
    };
    let ctx = er.0.context.clone().unwrap();
    let pull = Pull {
        context: ctx,
        max_elements: Some("2".into()),
        ..Pull::default()
    };
    let pulled = answer(
        &s,
        &request(action::PULL, PROCESS_URI, Body::Pull(pull), "153600"),
        "vagrant",
    );
    let next = items(&pulled);
    assert_eq!(next.len(), 2);
    assert!(
        next.iter()
            .all(|e| e.name.is(ns::ADDRESSING, "EndpointReference"))
    );
    assert!(next[0].deep_text().contains(PROCESS_URI) && next[0].deep_text().ends_with('2'));
    // EnumerateObjectAndEPR: a wsman:Item with the object, then its EPR.
    let both = items(&enumerate(Some("EnumerateObjectAndEPR")));
    assert_eq!(both.len(), 2);
    let kids: Vec<_> = both[1]
        .elements()
        .map(|e| e.name.local.to_string())
        .collect();
    assert!(both[1].name.is(ns::WSMAN, "Item"), "{:?}", both[1].name);
    assert_eq!(kids, ["Win32_Process", "EndpointReference"]);
    // Without a mode: objects; an unknown mode is refused.
    assert_eq!(items(&enumerate(None))[0].name.local, "Win32_Process");
    assert_eq!(
        fault_code(&enumerate(Some("EnumerateEverything"))).0,
        "w:UnsupportedFeature"
    );
}

/// The unchanged collection answers batches as one slice of its cached text; a changed one item
/// by item. Both must cut the same batches: same items, same sizes under MaxElements and
/// MaxEnvelopeSize, same end.
#[test]
fn unchanged_and_changed_collections_cut_the_same_batches() {
    let total = 300;
    let cached = service(&[], total);
    let changed = service(&[], total);
    // Put item 7 back as it is: the collection counts as changed, its content is the same.
    let Body::Other(item) = on_item(&changed, action::GET, "7", Body::Empty).body else {
        panic!("no item 7")
    };
    let put = on_item(&changed, action::PUT, "7", Body::Other(item));
    assert!(put.fault().is_none(), "{:?}", put.fault());

    let batch = |env: Envelope| match env.body {
        Body::EnumerateResponse(EnumerateResponse(r)) | Body::PullResponse(PullResponse(r)) => r,
        _ => panic!("{:?}", env.fault()),
    };
    let enumerate = |s: &Service| {
        let e = Enumerate {
            optimize: true,
            max_elements: Some("25".into()),
            ..Enumerate::default()
        };
        batch(answer(
            s,
            &request(action::ENUMERATE, PROCESS_URI, Body::Enumerate(e), "153600"),
            "vagrant",
        ))
    };
    let (mut a, mut b) = (enumerate(&cached), enumerate(&changed));
    let mut seen = 0;
    // Batches cut by count (MaxElements) and by size (an 8 KB envelope holds ~11 items).
    let shapes = [
        ("5", "153600"),
        ("100", "8192"),
        ("1", "153600"),
        ("64", "12000"),
    ];
    for step in 0.. {
        assert_eq!(a.item_count(), b.item_count(), "batch {step}");
        assert_eq!(a.items, b.items, "batch {step}: the same items");
        assert_eq!(a.end_of_sequence, b.end_of_sequence, "batch {step}");
        seen += a.item_count();
        if a.end_of_sequence.is_some() {
            break;
        }
        let (max, size) = shapes[step % shapes.len()];
        let (ca, cb) = (a.context.clone().unwrap(), b.context.clone().unwrap());
        a = batch(pull(&cached, &ca, Some(max), size));
        b = batch(pull(&changed, &cb, Some(max), size));
    }
    assert_eq!(seen, total);
}
