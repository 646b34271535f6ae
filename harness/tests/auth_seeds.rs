//! Seeds for the auth fuzz targets, recorded from real handshakes of our client and server.
//! `cargo test --test auth_seeds -- --ignored` rewrites `corpus/<target>/`; the default test
//! checks that the committed seeds still satisfy the fuzz invariants and still decode.

use std::path::{Path, PathBuf};

use wsman_harness::auth::encrypted_body::EncryptedBody;
use wsman_harness::auth::header::AuthValue;
use wsman_harness::auth::message_security::{SOAP_UTF8, seal_ntlm};
use wsman_harness::auth::ntlm::*;
use wsman_harness::auth::spnego::{NegState, NegTokenInit, NegTokenResp, Oid, Token};

fn corpus(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../corpus")
        .join(target)
}

/// (target, file name, bytes) for every seed.
fn seeds() -> Vec<(&'static str, String, Vec<u8>)> {
    let (sent, negotiate) = Client::new(
        Credentials::new("seed", "", "seed-only-password"),
        ClientOptions::default(),
    )
    .start();
    let (state, challenge) = Server::new(ServerOptions::default())
        .challenge(&negotiate)
        .unwrap();
    let (client, authenticate) = sent.respond(&challenge).unwrap();
    let _server = state
        .verify(&authenticate, |_, _| {
            Some(crypto::nt_hash("seed-only-password"))
        })
        .unwrap();
    let mut session = client.session;
    let init = Token::Init(NegTokenInit {
        mech_types: vec![Oid::ntlm()],
        mech_token: Some(negotiate.clone()),
        ..Default::default()
    })
    .encode();
    let resp = Token::Resp(NegTokenResp {
        neg_state: Some(NegState::ACCEPT_INCOMPLETE),
        supported_mech: Some(Oid::ntlm()),
        response_token: Some(challenge.clone()),
        mech_list_mic: None,
    })
    .encode();
    let sealed = seal_ntlm(
        &mut session,
        b"<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body/></s:Envelope>",
        SOAP_UTF8,
    );
    let mut body = format!("{}\n", sealed.content_type()).into_bytes();
    body.extend(sealed.encode());
    let mut multi = sealed.clone();
    multi.multi = true;
    multi.blocks.push(multi.blocks[0].clone());
    let mut multi_body = format!("{}\n", multi.content_type()).into_bytes();
    multi_body.extend(multi.encode());
    vec![
        ("ntlm_message", "negotiate.bin".into(), negotiate.clone()),
        ("ntlm_message", "challenge.bin".into(), challenge.clone()),
        (
            "ntlm_message",
            "authenticate.bin".into(),
            authenticate.clone(),
        ),
        ("spnego_token", "init-ntlm.der".into(), init),
        ("spnego_token", "resp-challenge.der".into(), resp),
        (
            "auth_header",
            "www-authenticate.txt".into(),
            b"Negotiate, Kerberos, Basic realm=\"WSMAN\"".to_vec(),
        ),
        (
            "auth_header",
            "authorization-negotiate.txt".into(),
            AuthValue::with_token("Negotiate", &negotiate)
                .to_string()
                .into_bytes(),
        ),
        (
            "auth_header",
            "authorization-basic.txt".into(),
            b"Basic c2VlZDpzZWVkLW9ubHktcGFzc3dvcmQ=".to_vec(),
        ),
        ("encrypted_body", "spnego-ntlm.bin".into(), body),
        ("encrypted_body", "multi.bin".into(), multi_body),
        ("xs_duration", "windows.txt".into(), b"PT60.000S".to_vec()),
        ("xs_duration", "full.txt".into(), b"P1DT2H3M4.5S".to_vec()),
        ("xs_duration", "negative.txt".into(), b"-PT1S".to_vec()),
    ]
}

#[test]
#[ignore = "rewrites corpus/ seeds"]
fn record_auth_seeds() {
    for (target, name, bytes) in seeds() {
        let dir = corpus(target);
        std::fs::create_dir_all(&dir).unwrap();
        let tmp = dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, &bytes).unwrap();
        std::fs::rename(&tmp, dir.join(&name)).unwrap();
    }
}

#[test]
fn committed_seeds_hold_the_invariants_and_decode() {
    let mut n = 0;
    for target in [
        "ntlm_message",
        "spnego_token",
        "auth_header",
        "encrypted_body",
        "xs_duration",
    ] {
        for e in std::fs::read_dir(corpus(target)).unwrap() {
            let p = e.unwrap().path();
            let data = std::fs::read(&p).unwrap();
            match target {
                "ntlm_message" => {
                    wsman_harness::fuzzing::ntlm_message(&data);
                    Message::decode(&data).unwrap();
                }
                "spnego_token" => {
                    wsman_harness::fuzzing::spnego_token(&data);
                    Token::decode(&data).unwrap();
                }
                "auth_header" => wsman_harness::fuzzing::auth_header(&data),
                "encrypted_body" => {
                    wsman_harness::fuzzing::encrypted_body(&data);
                    let split = data.iter().position(|b| *b == b'\n').unwrap();
                    EncryptedBody::decode(
                        std::str::from_utf8(&data[..split]).unwrap(),
                        &data[split + 1..],
                    )
                    .unwrap();
                }
                _ => wsman_harness::fuzzing::xs_duration(&data),
            }
            n += 1;
        }
    }
    assert!(n >= 13, "{n} seeds");
    // The recorder still produces seeds of the same kinds.
    assert_eq!(seeds().len(), 13);
}
