//! A customer's token on its requests: logging in when it has none fit for use, and once
//! more after a 401. Logins are requests of the run like any other, timed and recorded.

use super::{POST_TOKEN, Shop};
use crate::auth::{Customer, Login, TokenAnswer};
use crate::stats::Outcome;
use reqwest::header::AUTHORIZATION;
use tokio::time::Instant;
use uuid::Uuid;

impl Shop {
    /// Sends `request` with `user`'s token (logging in first when it has none fit for use) and
    /// records it as [`call`](Self::call) does. On a 401 the customer logs in again and the
    /// request is sent once more (the order keeps its Idempotency-Key). The outcome is `None`
    /// when no token could be had, so the request was never sent.
    pub(super) async fn as_customer(
        &self,
        user: &Customer,
        endpoint: &str,
        request: reqwest::RequestBuilder,
        since: Instant,
        want_id: bool,
    ) -> (Option<Outcome>, Option<Uuid>) {
        let (mut request, mut since) = (request, since);
        let mut retry = request.try_clone();
        loop {
            let Some((bearer, logged_in)) = self.bearer(user, since).await else {
                return (None, None);
            };
            // The login was the action's first request; this one counts from when it leaves.
            if logged_in {
                since = Instant::now();
            }
            let (outcome, id) = self
                .call(endpoint, request.header(AUTHORIZATION, &bearer), since, want_id)
                .await;
            match (outcome, retry.take()) {
                (Outcome::Status(401), Some(again)) => {
                    self.forget(user, &bearer).await;
                    (request, since) = (again, Instant::now());
                }
                _ => return (Some(outcome), id),
            }
        }
    }

    /// `user`'s `Authorization` header value: its token while fresh, else a new one from
    /// `POST /auth/token` (timed from `since`), and whether it logged in for it. `None` when
    /// the login failed.
    pub(super) async fn bearer(&self, user: &Customer, since: Instant) -> Option<(String, bool)> {
        let mut login = user.login.lock().await;
        if let Some(current) = login.as_ref()
            && current.fresh_at(Instant::now())
        {
            return Some((current.bearer.header(), false));
        }
        let sent = Instant::now();
        let request = self
            .client
            .post(format!("{}/auth/token", self.targets.user))
            .json(&user.credentials.login());
        let parse = |body: &[u8]| serde_json::from_slice::<TokenAnswer>(body).ok();
        let (_, answer) = self.send(POST_TOKEN, request, since, parse).await;
        let fresh = Login::new(answer?, sent);
        let header = fresh.bearer.header();
        *login = Some(fresh);
        Some((header, true))
    }

    /// Drops `user`'s token if it is still `bearer` (another request may have renewed it).
    async fn forget(&self, user: &Customer, bearer: &str) {
        let mut login = user.login.lock().await;
        if login.as_ref().is_some_and(|l| l.bearer.header() == bearer) {
            *login = None;
        }
    }
}
