//! The baseline of `benches/server-vs-hyper.sh`: a bare hyper HTTP/1.1 server that answers every
//! request with the bytes of a file, with keep-alive, on the same runtime settings as the
//! reference server. `bare-hyper ADDR FILE` prints `listening on ADDR` and serves until killed.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, addr, file] = args.as_slice() else {
        eprintln!("usage: bare-hyper ADDR FILE");
        std::process::exit(2);
    };
    let body = Bytes::from(std::fs::read(file).expect("the response file is readable"));
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .expect("the address is free");
        println!("listening on {}", listener.local_addr().expect("bound"));
        let body = Arc::new(body);
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let body = body.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                    let body = body.clone();
                    async move {
                        // Read the request like the real server does, then answer.
                        let _ = req.into_body().collect().await;
                        let mut r = Response::new(Full::new((*body).clone()));
                        r.headers_mut().insert(
                            "content-type",
                            "application/soap+xml;charset=UTF-8"
                                .parse()
                                .expect("static"),
                        );
                        Ok::<_, Infallible>(r)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
}
