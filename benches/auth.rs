//! NTLM message security and handshakes, each next to a bare primitive pass over the same bytes
//! (plain RC4, HMAC-MD5) so that results read as ratios.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rc4::{KeyInit, Rc4, StreamCipher};
use wsman_harness::auth::encrypted_body::EncryptedBody;
use wsman_harness::auth::message_security::{SOAP_UTF8, seal_ntlm, unseal_ntlm};
use wsman_harness::auth::ntlm::crypto::{hmac_md5, nt_hash};
use wsman_harness::auth::ntlm::*;

fn handshake() -> (Established, Established) {
    let (sent, negotiate) = Client::new(
        Credentials::new("bench", "", "bench-password"),
        ClientOptions::default(),
    )
    .start();
    let (state, challenge) = Server::new(ServerOptions::default())
        .challenge(&negotiate)
        .unwrap();
    let (client, authenticate) = sent.respond(&challenge).unwrap();
    let server = state
        .verify(&authenticate, |_, _| Some(nt_hash("bench-password")))
        .unwrap();
    (client, server)
}

fn seal_unseal(c: &mut Criterion) {
    let body = vec![b'x'; 150 * 1024];
    let mut g = c.benchmark_group("ntlm_150k");
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("rc4_pass", |b| {
        let mut rc4 = Rc4::new_from_slice(&[7; 16]).unwrap();
        let mut data = body.clone();
        b.iter(|| rc4.apply_keystream(black_box(&mut data)))
    });
    g.bench_function("hmac_md5_pass", |b| {
        b.iter(|| hmac_md5(&[7; 16], &[black_box(&body)]))
    });
    g.bench_function("seal_unseal_body", |b| {
        let (mut client, mut server) = handshake();
        b.iter(|| {
            let sealed = seal_ntlm(&mut client.session, black_box(&body), SOAP_UTF8);
            let (ct, wire) = (sealed.content_type(), sealed.encode());
            let (got, _) = EncryptedBody::decode(&ct, &wire).unwrap();
            let plain = unseal_ntlm(&mut server.session, &got).unwrap();
            assert_eq!(plain.len(), body.len());
        })
    });
    g.finish();
}

fn handshakes(c: &mut Criterion) {
    let mut g = c.benchmark_group("ntlm_handshake");
    g.bench_function("hmac_md5_of_three_messages", |b| {
        let msgs = vec![0u8; 40 + 120 + 300];
        b.iter(|| hmac_md5(&[1; 16], &[black_box(&msgs)]))
    });
    g.bench_function("client_and_server", |b| b.iter(handshake));
    g.finish();
}

criterion_group!(auth, seal_unseal, handshakes);
criterion_main!(auth);
