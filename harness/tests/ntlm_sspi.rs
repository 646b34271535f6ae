//! Differential: our NTLM against the `sspi` crate's (Devolutions' pure-Rust SSPI), in process,
//! both ways round: our client with its acceptor, its client with our server, then MS-WSMV style
//! sealing (16-byte signature + RC4 ciphertext) in both directions, and wrong passwords refused.

use sspi::{
    AuthIdentity, BufferType, ClientRequestFlags, CredentialUse, DataRepresentation,
    EncryptionFlags, Ntlm, SecurityBuffer, SecurityBufferRef, SecurityStatus, ServerRequestFlags,
    Sspi, SspiImpl, Username,
};
use wsman_harness::auth::ntlm::{
    Client, ClientOptions, Credentials, Server, ServerOptions, Session, crypto::nt_hash,
};

const USER: &str = "vagrant";
const DOMAIN: &str = "WORKGROUP";
const PASSWORD: &str = "Differential-Passw0rd";

fn identity(password: &str) -> AuthIdentity {
    AuthIdentity {
        username: Username::new(USER, Some(DOMAIN)).unwrap(),
        password: password.to_owned().into(),
    }
}

/// An sspi NTLM context with the test account's credentials for one side.
fn sspi_ntlm(side: CredentialUse, password: &str) -> (Ntlm, Option<sspi::AuthIdentityBuffers>) {
    let mut ntlm = Ntlm::new();
    let creds = ntlm
        .acquire_credentials_handle()
        .with_credential_use(side)
        .with_auth_data(&identity(password))
        .execute(&mut ntlm)
        .unwrap()
        .credentials_handle;
    (ntlm, creds)
}

/// sspi's acceptor, one leg per call.
struct SspiServer {
    ntlm: Ntlm,
    creds: Option<sspi::AuthIdentityBuffers>,
}

impl SspiServer {
    fn new(password: &str) -> Self {
        let (ntlm, creds) = sspi_ntlm(CredentialUse::Inbound, password);
        Self { ntlm, creds }
    }

    fn accept(&mut self, token: &[u8]) -> Result<(SecurityStatus, Vec<u8>), sspi::Error> {
        let mut input = vec![SecurityBuffer::new(token.to_vec(), BufferType::Token)];
        let mut output = vec![SecurityBuffer::new(Vec::new(), BufferType::Token)];
        let builder = self
            .ntlm
            .accept_security_context()
            .with_credentials_handle(&mut self.creds)
            .with_context_requirements(ServerRequestFlags::ALLOCATE_MEMORY)
            .with_target_data_representation(DataRepresentation::Native)
            .with_input(&mut input)
            .with_output(&mut output);
        let result = self
            .ntlm
            .accept_security_context_impl(builder)?
            .resolve_to_result()?;
        if matches!(
            result.status,
            SecurityStatus::CompleteAndContinue | SecurityStatus::CompleteNeeded
        ) {
            self.ntlm.complete_auth_token(&mut output)?;
        }
        Ok((result.status, std::mem::take(&mut output[0].buffer)))
    }
}

/// sspi's initiator, one leg per call.
struct SspiClient {
    ntlm: Ntlm,
    creds: Option<sspi::AuthIdentityBuffers>,
}

impl SspiClient {
    fn new(password: &str) -> Self {
        let (ntlm, creds) = sspi_ntlm(CredentialUse::Outbound, password);
        Self { ntlm, creds }
    }

    fn step(&mut self, input: Option<&[u8]>) -> Vec<u8> {
        let mut output = vec![SecurityBuffer::new(Vec::new(), BufferType::Token)];
        let mut input = vec![SecurityBuffer::new(
            input.unwrap_or_default().to_vec(),
            BufferType::Token,
        )];
        let mut builder = self
            .ntlm
            .initialize_security_context()
            .with_credentials_handle(&mut self.creds)
            .with_context_requirements(
                ClientRequestFlags::CONFIDENTIALITY
                    | ClientRequestFlags::INTEGRITY
                    | ClientRequestFlags::ALLOCATE_MEMORY,
            )
            .with_target_data_representation(DataRepresentation::Native)
            .with_target_name("HTTP/localhost")
            .with_input(&mut input)
            .with_output(&mut output);
        let result = self
            .ntlm
            .initialize_security_context_impl(&mut builder)
            .unwrap()
            .resolve_to_result()
            .unwrap();
        if matches!(
            result.status,
            SecurityStatus::CompleteAndContinue | SecurityStatus::CompleteNeeded
        ) {
            self.ntlm.complete_auth_token(&mut output).unwrap();
        }
        std::mem::take(&mut output[0].buffer)
    }
}

/// sspi seals (EncryptMessage) → our session unseals, and our session seals → sspi unseals,
/// for several messages so that the sequence numbers move on both sides.
fn seal_both_ways(peer: &mut Ntlm, ours: &mut Session) {
    for msg in [
        "<s:Envelope>first</s:Envelope>",
        "second, longer message body",
        "3",
    ] {
        let mut token = [0u8; 16];
        let mut data = msg.as_bytes().to_vec();
        let mut bufs = vec![
            SecurityBufferRef::token_buf(&mut token),
            SecurityBufferRef::data_buf(&mut data),
        ];
        peer.encrypt_message(EncryptionFlags::empty(), &mut bufs)
            .unwrap();
        let sig = bufs[0].data().to_vec();
        let mut sealed = bufs[1].data().to_vec();
        assert_ne!(sealed, msg.as_bytes(), "sspi encrypted");
        ours.unseal(&mut sealed, &sig)
            .expect("our session unseals sspi's message");
        assert_eq!(sealed, msg.as_bytes());

        let mut data = msg.as_bytes().to_vec();
        let mut sig = ours.seal(&mut data);
        let mut bufs = vec![
            SecurityBufferRef::token_buf(&mut sig),
            SecurityBufferRef::data_buf(&mut data),
        ];
        peer.decrypt_message(&mut bufs).expect("sspi unseals ours");
        assert_eq!(bufs[1].data(), msg.as_bytes());
    }
}

#[test]
fn our_client_against_the_sspi_acceptor() {
    let mut server = SspiServer::new(PASSWORD);
    let (sent, negotiate) = Client::new(
        Credentials::new(USER, DOMAIN, PASSWORD),
        ClientOptions::default(),
    )
    .start();
    let (status, challenge) = server.accept(&negotiate).expect("sspi reads our NEGOTIATE");
    assert_eq!(status, SecurityStatus::ContinueNeeded);
    let (mut est, authenticate) = sent.respond(&challenge).expect("we read sspi's CHALLENGE");
    let (status, _) = server
        .accept(&authenticate)
        .expect("sspi verifies our NTLMv2 response and MIC");
    assert!(
        matches!(status, SecurityStatus::Ok | SecurityStatus::CompleteNeeded),
        "{status:?}"
    );
    seal_both_ways(&mut server.ntlm, &mut est.session);
}

#[test]
fn the_sspi_acceptor_refuses_our_client_with_a_wrong_password() {
    let mut server = SspiServer::new(PASSWORD);
    let (sent, negotiate) = Client::new(
        Credentials::new(USER, DOMAIN, "wrong"),
        ClientOptions::default(),
    )
    .start();
    let (_, challenge) = server.accept(&negotiate).unwrap();
    let (_, authenticate) = sent.respond(&challenge).unwrap();
    assert!(
        server.accept(&authenticate).is_err(),
        "a wrong password must be refused"
    );
}

#[test]
fn the_sspi_client_against_our_server() {
    let mut client = SspiClient::new(PASSWORD);
    let negotiate = client.step(None);
    let (state, challenge) = Server::new(ServerOptions::default())
        .challenge(&negotiate)
        .expect("we read sspi's NEGOTIATE");
    let authenticate = client.step(Some(&challenge));
    let mut est = state
        .verify(&authenticate, |user, _| {
            user.eq_ignore_ascii_case(USER).then(|| nt_hash(PASSWORD))
        })
        .expect("we verify sspi's NTLMv2 response and MIC");
    assert!(est.user.eq_ignore_ascii_case(USER), "{}", est.user);
    seal_both_ways(&mut client.ntlm, &mut est.session);
}

#[test]
fn our_server_refuses_the_sspi_client_with_a_wrong_password() {
    let mut client = SspiClient::new("wrong");
    let negotiate = client.step(None);
    let (state, challenge) = Server::new(ServerOptions::default())
        .challenge(&negotiate)
        .unwrap();
    let authenticate = client.step(Some(&challenge));
    assert!(
        state
            .verify(&authenticate, |_, _| Some(nt_hash(PASSWORD)))
            .is_err()
    );
}
