//! The HTTP clients of one [`crate::Client`]: a plain one for `http://` URLs (no TLS roots: a local
//! emulator or the ECS metadata service), and one that verifies TLS, built with the system's roots on the
//! first `https://` request, once. Loading some 150 root certificates is most of the cost of building a
//! client, and an `http://` endpoint never needs them.

use std::sync::{Arc, OnceLock};

/// A builder with the shared settings; `tls` says whether its client will ever talk TLS.
type Make = dyn Fn(bool) -> reqwest::ClientBuilder + Send + Sync;

/// See the module docs. Cloning shares both clients.
#[derive(Clone)]
pub(crate) struct HttpClients {
    plain: reqwest::Client,
    tls: Arc<OnceLock<reqwest::Client>>,
    make: Arc<Make>,
}

impl std::fmt::Debug for HttpClients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClients")
            .field("tls_built", &self.tls.get().is_some())
            .finish_non_exhaustive()
    }
}

impl HttpClients {
    /// Clients from `make(tls)`, a builder with every setting (proxies, time-outs, custom roots); the plain
    /// client is built now, the TLS one on first use. Every client of the crate is made here, and none
    /// follows a redirect (see [`crate::answer`]).
    pub(crate) fn new(
        make: impl Fn(bool) -> reqwest::ClientBuilder + Send + Sync + 'static,
    ) -> reqwest::Result<Self> {
        Ok(HttpClients {
            plain: build(&make, false)?,
            tls: Arc::new(OnceLock::new()),
            make: Arc::new(make),
        })
    }

    /// One client for both kinds of URL (tests; the client is used as given).
    #[cfg(test)]
    pub(crate) fn single(client: reqwest::Client) -> Self {
        let tls = OnceLock::new();
        let _ = tls.set(client.clone());
        HttpClients {
            plain: client.clone(),
            tls: Arc::new(tls),
            make: Arc::new(|_| reqwest::Client::builder()),
        }
    }

    /// The client for `url`: the plain one for `http://`, the TLS one (built now if it is the first) else.
    pub(crate) fn for_url(&self, url: &url::Url) -> reqwest::Result<&reqwest::Client> {
        if url.scheme() == "http" {
            return Ok(&self.plain);
        }
        if let Some(client) = self.tls.get() {
            return Ok(client);
        }
        let built = build(&*self.make, true)?;
        Ok(self.tls.get_or_init(|| built))
    }

    /// The plain client, for building requests (the generated code only builds them; sending goes
    /// through [`Self::for_url`]).
    pub(crate) fn builder_client(&self) -> reqwest::Client {
        self.plain.clone()
    }
}

/// The client of `make(tls)`, following no redirect.
fn build(make: &Make, tls: bool) -> reqwest::Result<reqwest::Client> {
    make(tls)
        .redirect(reqwest::redirect::Policy::none())
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn the_tls_client_is_built_on_the_first_https_url_and_only_once() {
        let built = Arc::new(AtomicUsize::new(0));
        let counter = built.clone();
        let clients = HttpClients::new(move |tls| {
            if tls {
                counter.fetch_add(1, Ordering::SeqCst);
            }
            reqwest::Client::builder().tls_certs_only(std::iter::empty())
        })
        .unwrap();
        let http = url::Url::parse("http://127.0.0.1:1/").unwrap();
        let https = url::Url::parse("https://127.0.0.1:1/").unwrap();
        clients.for_url(&http).unwrap();
        assert_eq!(
            built.load(Ordering::SeqCst),
            0,
            "http:// needs no TLS roots"
        );
        clients.for_url(&https).unwrap();
        clients.clone().for_url(&https).unwrap();
        assert_eq!(
            built.load(Ordering::SeqCst),
            1,
            "built once, shared by clones"
        );
    }
}
