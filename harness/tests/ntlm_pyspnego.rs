//! Differential: our NTLM client against pyspnego's NTLM acceptor (an independent
//! implementation), including sealing in both directions. (pyspnego's client against our server
//! runs in tests/server.rs through pywinrm and pypsrp.)

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use wsman_harness::auth::ntlm::{Client, ClientOptions, Credentials};

#[test]
fn our_client_authenticates_and_seals_against_pyspnego() {
    let dir = std::env::temp_dir().join(format!("wsman-harness-pyspnego-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let users = dir.join("users");
    std::fs::write(&users, "WORKGROUP:vagrant:Differential-Passw0rd\n").unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/interop/pyspnego_acceptor.py");
    let mut py = Command::new("python3")
        .arg(script)
        .env("NTLM_USER_FILE", &users)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 with pyspnego (scripts/test installs it)");
    let mut input = py.stdin.take().unwrap();
    let mut output = BufReader::new(py.stdout.take().unwrap());
    let mut ask = |line: String| {
        writeln!(input, "{line}").unwrap();
        let mut reply = String::new();
        output.read_line(&mut reply).unwrap();
        let (kind, data) = reply.trim().split_once(' ').unwrap_or((reply.trim(), ""));
        assert_ne!(kind, "ERROR", "pyspnego refused: {data}");
        (
            kind.to_owned(),
            if data == "-" {
                Vec::new()
            } else {
                B64.decode(data).unwrap()
            },
        )
    };
    let creds = Credentials::new("vagrant", "WORKGROUP", "Differential-Passw0rd");
    let (sent, negotiate) = Client::new(
        creds,
        ClientOptions {
            workstation: "HARNESS".into(),
            ..ClientOptions::default()
        },
    )
    .start();
    let (kind, challenge) = ask(format!("TOKEN {}", B64.encode(&negotiate)));
    assert_eq!(kind, "TOKEN");
    let (mut est, authenticate) = sent.respond(&challenge).unwrap();
    let (kind, _) = ask(format!("TOKEN {}", B64.encode(&authenticate)));
    assert_eq!(
        kind, "DONE",
        "pyspnego accepted our AUTHENTICATE (NTLMv2 proof and MIC)"
    );
    for msg in [
        "<s:Envelope>first</s:Envelope>",
        "second, longer message body",
        "3",
    ] {
        let mut data = msg.as_bytes().to_vec();
        let sig = est.session.seal(&mut data);
        let mut wire = sig.to_vec();
        wire.extend(&data);
        let (kind, reply) = ask(format!("WRAP {}", B64.encode(&wire)));
        assert_eq!(kind, "WRAP");
        let (header, body) = reply.split_at(16);
        let mut body = body.to_vec();
        est.session.unseal(&mut body, header).unwrap();
        let expected: Vec<u8> = msg.bytes().rev().collect();
        assert_eq!(body, expected);
    }
    drop(input);
    let _ = py.wait();
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn pyspnego_refuses_our_client_with_a_wrong_password() {
    let dir =
        std::env::temp_dir().join(format!("wsman-harness-pyspnego-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let users = dir.join("users");
    std::fs::write(&users, "WORKGROUP:vagrant:right-password\n").unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/interop/pyspnego_acceptor.py");
    let mut py = Command::new("python3")
        .arg(script)
        .env("NTLM_USER_FILE", &users)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = py.stdin.take().unwrap();
    let mut output = BufReader::new(py.stdout.take().unwrap());
    let (sent, negotiate) = Client::new(
        Credentials::new("vagrant", "WORKGROUP", "wrong"),
        ClientOptions::default(),
    )
    .start();
    writeln!(input, "TOKEN {}", B64.encode(&negotiate)).unwrap();
    let mut line = String::new();
    output.read_line(&mut line).unwrap();
    let challenge = B64.decode(line.trim().split_once(' ').unwrap().1).unwrap();
    let (_, authenticate) = sent.respond(&challenge).unwrap();
    writeln!(input, "TOKEN {}", B64.encode(&authenticate)).unwrap();
    line.clear();
    output.read_line(&mut line).unwrap();
    assert!(
        line.starts_with("ERROR"),
        "a wrong password must be refused: {line}"
    );
    drop(input);
    let _ = py.wait();
    std::fs::remove_dir_all(dir).unwrap();
}
