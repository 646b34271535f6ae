//! Kerberos through the platform GSS-API against a real MIT KDC started on loopback: our
//! initiator and acceptor in one process, then MS-WSMV sealing both ways.
//!
//! One test function: the library reads its configuration from the environment, which is set
//! once, before any other thread of this binary could read it.

mod common;

use common::kdc::{self, Kdc};
use wsman_harness::auth::kerberos::{Acceptor, ClientCredentials, Initiator};

#[test]
fn initiator_and_acceptor_against_a_real_kdc() {
    let Some(kdc) = Kdc::start_or_skip() else {
        return;
    };
    for (k, v) in kdc.env() {
        // SAFETY: the only test of this binary sets the variables before it starts any thread.
        unsafe { std::env::set_var(k, v) };
    }
    let creds = ClientCredentials {
        principal: Some(kdc.principal()),
        password: Some(kdc::PASSWORD.into()),
    };

    // A full handshake with mutual authentication and sealing both ways.
    let mut init = Initiator::new("HTTP@localhost", &creds, None).expect("initiator");
    let first = init.step(None).expect("AP-REQ");
    assert!(!first.complete, "mutual authentication needs the AP-REP");
    assert_eq!(first.token[0], 0x60, "a GSS initial context token");
    let acceptor = Acceptor::new(Some(kdc.keytab_path())).expect("acceptor");
    let (accepted, mut server) = acceptor.accept(&first.token, None).expect("accept");
    assert_eq!(accepted.client.as_deref(), Some(kdc.principal().as_str()));
    let last = init.step(Some(&accepted.token)).expect("AP-REP");
    assert!(last.complete);
    let mut client = init.into_context().expect("established");

    let body = "<s:Envelope>".repeat(1000);
    let sealed = client.wrap_winrm(body.as_bytes()).expect("wrap");
    assert!(!sealed.header.is_empty());
    assert!(
        !sealed.data.windows(12).any(|w| w == b"<s:Envelope>"),
        "the data is encrypted"
    );
    let plain = server
        .unwrap_winrm(&sealed.header, &sealed.data)
        .expect("unwrap");
    assert_eq!(plain, body.as_bytes());
    let reply = server.wrap_winrm(b"<answer/>").expect("server wrap");
    assert_eq!(
        client.unwrap_winrm(&reply.header, &reply.data).unwrap(),
        b"<answer/>"
    );

    // A replayed body is refused (sequence/replay detection), and so is a flipped bit.
    let err = server
        .unwrap_winrm(&sealed.header, &sealed.data)
        .unwrap_err();
    assert_eq!(err.operation, "unwrap", "{err}");
    let mut tampered = client.wrap_winrm(b"<x/>").unwrap();
    let last = tampered.data.len() - 1;
    tampered.data[last] ^= 1;
    assert!(
        server
            .unwrap_winrm(&tampered.header, &tampered.data)
            .is_err()
    );
    // Last use of the pair: a seed sealed here is never unwrapped, which would leave a gap.
    if std::env::var_os("WSMAN_RECORD_SEEDS").is_some() {
        record_seeds(&first.token, &accepted.token, &mut client);
    }

    // A wrong password never reaches the server.
    let bad = ClientCredentials {
        principal: Some(kdc.principal()),
        password: Some("wrong".into()),
    };
    let err = Initiator::new("HTTP@localhost", &bad, None)
        .and_then(|mut i| i.step(None))
        .unwrap_err();
    assert!(
        err.message.to_lowercase().contains("password") || err.message.contains("integrity"),
        "{err}"
    );

    // A service the keytab does not hold: the KDC has no such principal.
    let mut stranger = Initiator::new("HTTP@nowhere.invalid", &creds, None).unwrap();
    assert!(stranger.step(None).is_err());

    // The replayed AP-REQ is refused by the acceptor's replay cache.
    let again = Acceptor::new(Some(kdc.keytab_path())).unwrap();
    assert!(
        again.accept(&first.token, None).is_err(),
        "replayed AP-REQ accepted"
    );

    channel_bindings(&kdc, &creds);
    our_client_against_pyspnego(&kdc, &creds);
}

/// What the server's CbtHardeningLevel policy rests on: a matching binding is reported as
/// bound, a missing one is accepted unbound, a different one is refused.
fn channel_bindings(kdc: &Kdc, creds: &ClientCredentials) {
    let server_cb = b"tls-server-end-point:server-certificate-hash".to_vec();
    let accept = |client_cb: Option<Vec<u8>>| {
        let mut init = Initiator::new("HTTP@localhost", creds, client_cb).unwrap();
        let token = init.step(None).unwrap().token;
        Acceptor::new(Some(kdc.keytab_path()))
            .unwrap()
            .accept(&token, Some(&server_cb))
            .map(|(a, _)| a.channel_bound)
    };
    assert_eq!(accept(Some(server_cb.clone())), Ok(true));
    assert_eq!(accept(None), Ok(false));
    let err = accept(Some(b"tls-server-end-point:another-certificate".to_vec())).unwrap_err();
    assert!(
        err.message.to_lowercase().contains("channel binding"),
        "{err}"
    );
}

/// Differential: our initiator and our SPNEGO framing against pyspnego's Negotiate acceptor
/// (python-gssapi underneath), then sealing both ways with WinRM's layout.
fn our_client_against_pyspnego(kdc: &Kdc, creds: &ClientCredentials) {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD as B64;
    use std::io::{BufRead, BufReader, Write};
    use wsman_harness::auth::spnego::{NegState, NegTokenInit, Oid, Token};

    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/interop/pyspnego_acceptor.py");
    let mut py = std::process::Command::new("python3")
        .arg(script)
        .envs(kdc.env())
        .env("SPNEGO_PROTOCOL", "negotiate")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 with pyspnego[kerberos] (scripts/test installs it)");
    let mut input = py.stdin.take().unwrap();
    let mut output = BufReader::new(py.stdout.take().unwrap());
    let mut ask = |line: String| {
        writeln!(input, "{line}").unwrap();
        let mut reply = String::new();
        output.read_line(&mut reply).unwrap();
        assert!(!reply.starts_with("ERROR"), "pyspnego refused: {reply}");
        reply.trim().to_owned()
    };

    let mut init = Initiator::new("HTTP@localhost", creds, None).unwrap();
    let ap_req = init.step(None).unwrap().token;
    let offer = Token::Init(NegTokenInit {
        mech_types: vec![Oid::kerberos(), Oid::ntlm()],
        req_flags: None,
        mech_token: Some(ap_req),
        mech_list_mic: None,
    });
    let reply = ask(format!("TOKEN {}", B64.encode(offer.encode())));
    let (kind, data) = reply.split_once(' ').unwrap();
    assert_eq!(kind, "DONE", "one leg: {reply}");
    let Token::Resp(resp) = Token::decode(&B64.decode(data).unwrap())
        .expect("our decoder reads pyspnego's NegTokenResp")
    else {
        panic!("not a NegTokenResp");
    };
    assert_eq!(resp.neg_state, Some(NegState::ACCEPT_COMPLETED));
    assert_eq!(resp.supported_mech, Some(Oid::kerberos()));
    init.step(resp.response_token.as_deref())
        .expect("pyspnego's AP-REP");
    let mut ctx = init.into_context().unwrap();
    for msg in ["<s:Envelope>first</s:Envelope>", "second body", "3"] {
        let w = ctx.wrap_winrm(msg.as_bytes()).unwrap();
        let reply = ask(format!(
            "WRAP2 {} {}",
            B64.encode(&w.header),
            B64.encode(&w.data)
        ));
        let mut parts = reply.split(' ').skip(1).map(|p| B64.decode(p).unwrap());
        let (h, d) = (parts.next().unwrap(), parts.next().unwrap());
        let back = ctx.unwrap_winrm(&h, &d).unwrap();
        assert_eq!(back, msg.bytes().rev().collect::<Vec<u8>>());
    }
    drop(input);
    let _ = py.wait();
}

/// `WSMAN_RECORD_SEEDS=1 cargo test --test kerberos` writes Kerberos seeds for the auth fuzz
/// targets from this handshake (tests/auth_seeds.rs checks every committed seed).
fn record_seeds(ap_req: &[u8], ap_rep: &[u8], ctx: &mut wsman_harness::auth::kerberos::Context) {
    use wsman_harness::auth::encrypted_body::Protocol;
    use wsman_harness::auth::header::AuthValue;
    use wsman_harness::auth::message_security::{SOAP_UTF8, seal_kerberos};
    use wsman_harness::auth::spnego::{NegState, NegTokenInit, NegTokenResp, Oid, Token};
    let init = Token::Init(NegTokenInit {
        mech_types: vec![Oid::kerberos(), Oid::ntlm()],
        mech_token: Some(ap_req.to_vec()),
        ..Default::default()
    })
    .encode();
    let resp = Token::Resp(NegTokenResp {
        neg_state: Some(NegState::ACCEPT_COMPLETED),
        supported_mech: Some(Oid::kerberos()),
        response_token: Some(ap_rep.to_vec()),
        mech_list_mic: None,
    })
    .encode();
    let sealed = seal_kerberos(
        ctx,
        b"<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body/></s:Envelope>",
        SOAP_UTF8,
        Protocol::Kerberos,
    )
    .unwrap();
    let mut body = format!("{}\n", sealed.content_type()).into_bytes();
    body.extend(sealed.encode());
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    for (target, name, bytes) in [
        ("spnego_token", "init-kerberos.der", init),
        ("spnego_token", "resp-kerberos.der", resp),
        (
            "auth_header",
            "authorization-kerberos.txt",
            AuthValue::with_token("Kerberos", ap_req)
                .to_string()
                .into_bytes(),
        ),
        ("encrypted_body", "kerberos.bin", body),
    ] {
        let tmp = corpus.join(target).join(format!(".{name}.tmp"));
        std::fs::write(&tmp, &bytes).unwrap();
        std::fs::rename(&tmp, corpus.join(target).join(name)).unwrap();
    }
}
