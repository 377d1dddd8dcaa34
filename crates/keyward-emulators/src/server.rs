//! The accept loop. It is hand-rolled (rather than `axum::serve`) so that a request can close its
//! own connection without answering, which is how the drop fault reaches the client as a
//! connection error.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::task::{JoinHandle, JoinSet};
use tower_service::Service;

/// Put into every request's extensions; `kill()` closes that request's connection unanswered.
#[derive(Clone, Default)]
pub(crate) struct ConnectionKill(Arc<Notify>);

impl ConnectionKill {
    pub(crate) fn kill(&self) {
        // notify_one keeps a permit, so the connection task sees it even if not yet waiting.
        self.0.notify_one();
    }
}

/// A running server; dropping it (or `stop`) stops accepting and closes every connection.
pub(crate) struct Server {
    stop: watch::Sender<()>,
    task: JoinHandle<()>,
}

impl Server {
    pub(crate) fn spawn(listener: TcpListener, router: Router) -> Self {
        let (stop, stopped) = watch::channel(());
        let task = tokio::spawn(accept_loop(listener, router, stopped));
        Self { stop, task }
    }

    pub(crate) async fn stop(self) {
        drop(self.stop);
        // The task ends on its own once the sender is gone; a panic in it is not ours to rethrow.
        let _ = self.task.await;
    }
}

async fn accept_loop(listener: TcpListener, router: Router, mut stopped: watch::Receiver<()>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve_connection(stream, router.clone()));
                }
                // E.g. out of file descriptors: back off instead of spinning.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            // Fires when the sender is dropped.
            _ = stopped.changed() => break,
        }
    }
    connections.shutdown().await;
}

async fn serve_connection(stream: TcpStream, router: Router) {
    // Small JSON responses: don't let Nagle delay them.
    let _ = stream.set_nodelay(true);
    let kill = ConnectionKill::default();
    let service = {
        let kill = kill.clone();
        service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(kill.clone());
            let mut router = router.clone();
            async move { Ok::<_, Infallible>(router.call(request).await.unwrap_or_else(|e| match e {})) }
        })
    };
    let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        // A protocol error or a client hang-up ends the connection either way.
        _ = connection => {}
        // Dropping the connection future closes the socket without a response.
        () = kill.0.notified() => {}
    }
}
