//! NTLM against the MS-NLMP 4.2.4 known answers, and our client against our server in memory
//! with messages altered in flight.

use proptest::prelude::*;
use wsman_harness::auth::codec::utf16le;
use wsman_harness::auth::ntlm::crypto::{hmac_md5, nt_hash, ntowfv2, rc4k, temp, v2_response};
use wsman_harness::auth::ntlm::*;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn fixture(name: &str) -> Vec<u8> {
    hex(&std::fs::read_to_string(format!(
        "{}/../fixtures/ntlm/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap())
}

const SERVER_CHALLENGE: [u8; 8] = [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];
const CLIENT_CHALLENGE: [u8; 8] = [0xaa; 8];
const RANDOM_SESSION_KEY: [u8; 16] = [0x55; 16];

fn spec_target_info() -> Vec<u8> {
    hex("02000c0044006f006d00610069006e00 01000c00530065007200760065007200 00000000")
}

#[test]
fn ntowfv2_matches_ms_nlmp_4_2_4_1_1() {
    assert_eq!(
        nt_hash("Password").to_vec(),
        hex("a4f49c406510bdcab6824ee7c30fd852")
    );
    let k = ntowfv2(&nt_hash("Password"), "User", "Domain");
    assert_eq!(k.to_vec(), hex("0c868a403bfd7a93a3001ef22ef02e3f"));
}

#[test]
fn ntlmv2_response_and_keys_match_ms_nlmp_4_2_4_2() {
    let k = ntowfv2(&nt_hash("Password"), "User", "Domain");
    let t = temp(0, &CLIENT_CHALLENGE, &spec_target_info());
    // 4.2.4.1.3: temp.
    assert_eq!(
        t,
        hex(
            "0101000000000000 0000000000000000 aaaaaaaaaaaaaaaa 00000000 02000c0044006f006d00610069006e0001000c00530065007200760065007200 00000000 00000000"
        )
    );
    let r = v2_response(&k, &SERVER_CHALLENGE, &t);
    assert_eq!(
        r.nt_response[..16].to_vec(),
        hex("68cd0ab851e51c96aabc927bebef6a1c")
    );
    assert_eq!(
        r.lm_response,
        hex("86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa")
    );
    assert_eq!(
        r.session_base_key.to_vec(),
        hex("8de40ccadbc14a82f15cb0ad0de95ca3")
    );
    // 4.2.4.2.3: RC4(KeyExchangeKey, RandomSessionKey).
    assert_eq!(
        rc4k(&r.session_base_key, &RANDOM_SESSION_KEY),
        hex("c5dad2544fc9799094ce1ce90bc9d03e")
    );
}

#[test]
fn spec_messages_decode_and_encode_byte_for_byte() {
    let chal = fixture("ms-nlmp-4.2.4-challenge.hex");
    let c = Challenge::decode(&chal).unwrap();
    assert_eq!(c.server_challenge, SERVER_CHALLENGE);
    assert_eq!(c.flags, Flags(0xe28a_8233));
    assert_eq!(c.target_name, utf16le("Server"));
    assert_eq!(
        c.av_pairs().unwrap().get(AvId::NB_DOMAIN_NAME).unwrap(),
        utf16le("Domain")
    );
    assert_eq!(c.encode(), chal);

    let auth = fixture("ms-nlmp-4.2.4-authenticate.hex");
    let a = Authenticate::decode(&auth).unwrap();
    assert_eq!(
        (a.user_name().as_str(), a.domain_name().as_str()),
        ("User", "Domain")
    );
    assert_eq!(a.workstation, utf16le("COMPUTER"));
    assert_eq!(
        a.encrypted_session_key,
        hex("c5dad2544fc9799094ce1ce90bc9d03e")
    );
    assert_eq!(a.mic, None, "the 4.2.4 example carries no MIC");
    assert_eq!(a.encode(), auth);
    assert!(matches!(
        Message::decode(&auth).unwrap(),
        Message::Authenticate(_)
    ));
}

#[test]
fn sealing_matches_ms_nlmp_4_2_4_4() {
    let flags = Flags(0xe28a_8233);
    let mut client = Session::client(&RANDOM_SESSION_KEY, flags);
    let mut data = utf16le("Plaintext");
    let sig = client.seal(&mut data);
    assert_eq!(data, hex("54e50165bf1936dc996020c1811b0f06fb5f"));
    assert_eq!(sig.to_vec(), hex("010000007fb38ec5c55d497600000000"));
    let mut server = Session::server(&RANDOM_SESSION_KEY, flags);
    server.unseal(&mut data, &sig).unwrap();
    assert_eq!(data, utf16le("Plaintext"));
}

fn users(user: &str, _domain: &str) -> Option<[u8; 16]> {
    user.eq_ignore_ascii_case("vagrant")
        .then(|| nt_hash("vagrant-Passw0rd"))
}

struct Handshake {
    negotiate: Vec<u8>,
    challenge: Vec<u8>,
    authenticate: Vec<u8>,
    client: Established,
    server_state: AwaitingAuthenticate,
}

fn handshake(password: &str, copts: ClientOptions, sopts: ServerOptions) -> Handshake {
    let (sent, negotiate) = Client::new(Credentials::new("vagrant", "", password), copts).start();
    let (server_state, challenge) = Server::new(sopts).challenge(&negotiate).unwrap();
    let (client, authenticate) = sent.respond(&challenge).unwrap();
    Handshake {
        negotiate,
        challenge,
        authenticate,
        client,
        server_state,
    }
}

#[test]
fn our_client_and_server_agree_and_seal_both_ways() {
    let h = handshake(
        "vagrant-Passw0rd",
        ClientOptions::default(),
        ServerOptions::default(),
    );
    let mut client = h.client;
    let mut server = h.server_state.verify(&h.authenticate, users).unwrap();
    assert_eq!(server.user, "vagrant");
    assert!(
        Authenticate::decode(&h.authenticate).unwrap().mic.is_some(),
        "timestamp ⇒ MIC"
    );
    for i in 0..3 {
        let body = format!("<s:Envelope>{i}</s:Envelope>").into_bytes();
        let mut up = body.clone();
        let sig = client.session.seal(&mut up);
        assert_ne!(up, body);
        server.session.unseal(&mut up, &sig).unwrap();
        assert_eq!(up, body);
        let mut down = body.clone();
        let sig = server.session.seal(&mut down);
        client.session.unseal(&mut down, &sig).unwrap();
        assert_eq!(down, body);
    }
    let _ = (h.negotiate, h.challenge);
}

#[test]
fn wrong_passwords_and_unknown_users_are_rejected() {
    let h = handshake("wrong", ClientOptions::default(), ServerOptions::default());
    assert!(matches!(
        h.server_state.verify(&h.authenticate, users),
        Err(AuthError::BadCredentials)
    ));
    let (sent, neg) = Client::new(
        Credentials::new("mallory", "", "x"),
        ClientOptions::default(),
    )
    .start();
    let (state, chal) = Server::new(ServerOptions::default())
        .challenge(&neg)
        .unwrap();
    let (_, auth) = sent.respond(&chal).unwrap();
    assert!(matches!(
        state.verify(&auth, users),
        Err(AuthError::BadCredentials)
    ));
}

#[test]
fn a_replayed_authenticate_fails_against_a_new_challenge() {
    let h = handshake(
        "vagrant-Passw0rd",
        ClientOptions::default(),
        ServerOptions::default(),
    );
    let (fresh, _) = Server::new(ServerOptions::default())
        .challenge(&h.negotiate)
        .unwrap();
    assert!(matches!(
        fresh.verify(&h.authenticate, users),
        Err(AuthError::BadCredentials)
    ));
}

#[test]
fn tampering_with_any_message_breaks_the_mic() {
    let h = handshake(
        "vagrant-Passw0rd",
        ClientOptions::default(),
        ServerOptions::default(),
    );
    // Clear the SEAL flag in AUTHENTICATE (a downgrade): the MIC covers the flags.
    let mut auth = h.authenticate.clone();
    auth[60] &= !0x20;
    assert!(matches!(
        h.server_state.verify(&auth, users),
        Err(AuthError::BadMic)
    ));
    let h = handshake(
        "vagrant-Passw0rd",
        ClientOptions::default(),
        ServerOptions::default(),
    );
    let mut auth = h.authenticate.clone();
    auth[Authenticate::MIC_OFFSET] ^= 1;
    assert!(matches!(
        h.server_state.verify(&auth, users),
        Err(AuthError::BadMic)
    ));
}

#[test]
fn channel_binding_policy_is_honoured() {
    let cert_hash = hmac_md5(b"k", &[b"tls-server-end-point:cert"]);
    let other = hmac_md5(b"k", &[b"tls-server-end-point:other"]);
    let run = |sent: Option<[u8; 16]>, cbt: CbtPolicy| {
        let copts = ClientOptions {
            channel_bindings: sent,
            ..ClientOptions::default()
        };
        let sopts = ServerOptions {
            cbt,
            expected_bindings: Some(cert_hash),
            ..ServerOptions::default()
        };
        let h = handshake("vagrant-Passw0rd", copts, sopts);
        h.server_state.verify(&h.authenticate, users).is_ok()
    };
    assert!(run(Some(cert_hash), CbtPolicy::Strict));
    assert!(!run(None, CbtPolicy::Strict));
    assert!(!run(Some(other), CbtPolicy::Strict));
    assert!(run(None, CbtPolicy::Relaxed));
    assert!(run(Some(cert_hash), CbtPolicy::Relaxed));
    assert!(
        !run(Some(other), CbtPolicy::Relaxed),
        "a wrong binding fails even when relaxed"
    );
    assert!(run(Some(other), CbtPolicy::None));
}

#[test]
fn unsealing_refuses_replays_reordering_and_tampering() {
    let established = || {
        let h = handshake(
            "vagrant-Passw0rd",
            ClientOptions::default(),
            ServerOptions::default(),
        );
        let server = h.server_state.verify(&h.authenticate, users).unwrap();
        (h.client.session, server.session)
    };
    // Out of order: the second message arrives first.
    let (mut client, mut server) = established();
    let mut first = b"one".to_vec();
    let _ = client.seal(&mut first);
    let mut second = b"two".to_vec();
    let sig2 = client.seal(&mut second);
    assert_eq!(
        server.unseal(&mut second, &sig2),
        Err(UnsealError::Sequence {
            got: 1,
            expected: 0
        })
    );
    // A flipped checksum bit.
    let (mut client, mut server) = established();
    let mut m = b"payload".to_vec();
    let mut sig = client.seal(&mut m);
    sig[4] ^= 1;
    assert_eq!(server.unseal(&mut m, &sig), Err(UnsealError::Checksum));
    // A flipped ciphertext bit.
    let (mut client, mut server) = established();
    let mut m = b"payload".to_vec();
    let sig = client.seal(&mut m);
    m[0] ^= 1;
    assert_eq!(server.unseal(&mut m, &sig), Err(UnsealError::Checksum));
    // A replay of an accepted message.
    let (mut client, mut server) = established();
    let mut m = b"payload".to_vec();
    let sig = client.seal(&mut m);
    let replay = m.clone();
    server.unseal(&mut m, &sig).unwrap();
    assert!(matches!(
        server.unseal(&mut replay.clone(), &sig),
        Err(UnsealError::Sequence {
            got: 0,
            expected: 1
        })
    ));
    // A signature that is not one.
    assert_eq!(
        server.unseal(&mut b"x".to_vec(), &[0; 3]),
        Err(UnsealError::Malformed)
    );
}

#[test]
fn every_proper_prefix_of_each_spec_message_is_refused() {
    for name in [
        "ms-nlmp-4.2.4-challenge.hex",
        "ms-nlmp-4.2.4-authenticate.hex",
    ] {
        let full = fixture(name);
        for n in 0..full.len() {
            assert!(
                Message::decode(&full[..n]).is_err(),
                "{name}: prefix {n} decoded"
            );
        }
    }
}

proptest! {
    #[test]
    fn decoders_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let mut b = bytes.clone();
        if b.len() >= 12 {
            b[..8].copy_from_slice(b"NTLMSSP\0");
            b[8] %= 4;
        }
        let _ = Message::decode(&b);
        let _ = AvPairs::decode(&bytes);
    }

    #[test]
    fn authenticate_round_trips(user in "[a-zA-Z]{0,10}", nt in prop::collection::vec(any::<u8>(), 0..80), mic in any::<Option<[u8; 16]>>(), flags in any::<u32>()) {
        let a = Authenticate {
            lm_response: vec![0; 24],
            nt_response: nt,
            domain: utf16le("D"),
            user: utf16le(&user),
            workstation: Vec::new(),
            encrypted_session_key: vec![7; 16],
            flags: Flags(flags),
            version: Some(Version::WINDOWS_10),
            mic,
        };
        prop_assert_eq!(Authenticate::decode(&a.encode()).unwrap(), a);
    }
}

#[test]
fn encrypted_bodies_carry_envelopes_both_ways() {
    use wsman_harness::auth::encrypted_body::EncryptedBody;
    use wsman_harness::auth::message_security::{SOAP_UTF8, SecurityError, seal_ntlm, unseal_ntlm};
    let h = handshake(
        "vagrant-Passw0rd",
        ClientOptions::default(),
        ServerOptions::default(),
    );
    let mut client = h.client.session;
    let mut server = h
        .server_state
        .verify(&h.authenticate, users)
        .unwrap()
        .session;
    let envelope = include_bytes!(
        "../../fixtures/recordings/diyan__pywinrm/tests/test_xmls/test_run_cmd/1-request.xml"
    );
    let sealed = seal_ntlm(&mut client, envelope, SOAP_UTF8);
    let (ct, wire) = (sealed.content_type(), sealed.encode());
    assert!(
        !wire
            .windows(envelope.len().min(32))
            .any(|w| w == &envelope[..32]),
        "plaintext leaked"
    );
    let (got, quirks) = EncryptedBody::decode(&ct, &wire).unwrap();
    assert_eq!(quirks, Default::default());
    assert_eq!(unseal_ntlm(&mut server, &got).unwrap(), envelope);
    // A Length= that lies is refused before any crypto.
    let mut lying = seal_ntlm(&mut server, b"<reply/>", SOAP_UTF8);
    lying.blocks[0].length += 1;
    assert!(matches!(
        unseal_ntlm(&mut client, &lying),
        Err(SecurityError::LengthMismatch { .. })
    ));
}
