use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;

/// Accepts the token `good` as alice (group `team`); lets alice `list` and denies the rest.
#[derive(Default)]
struct FakeDelegate {
    token_reviews: AtomicUsize,
    access_reviews: AtomicUsize,
}

impl Delegate for FakeDelegate {
    fn review_token<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<Option<User>, String>> {
        self.token_reviews.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            match token {
                "good" => Ok(Some(User {
                    name: "alice".into(),
                    groups: vec!["team".into()],
                })),
                "broken" => Err("API server unreachable".into()),
                _ => Ok(None),
            }
        })
    }

    fn review_access<'a>(
        &'a self,
        user: &'a User,
        attributes: &'a Attributes,
    ) -> BoxFuture<'a, Result<Access, String>> {
        self.access_reviews.fetch_add(1, Ordering::SeqCst);
        let allowed = user.name == "alice"
            && matches!(attributes, Attributes::Resource { verb, .. } if verb == "list");
        Box::pin(async move {
            Ok(Access {
                allowed,
                reason: if allowed { "" } else { "no rule" }.into(),
            })
        })
    }
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(
            axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    h
}

fn proxy_peer(cn: &str) -> Peer {
    Peer {
        verified_client_cert: true,
        client_cn: Some(cn.into()),
    }
}

fn auth_with(delegate: &Arc<FakeDelegate>, allowed_names: &[&str]) -> Auth {
    let proxy = FrontProxy {
        allowed_names: allowed_names.iter().map(|s| s.to_string()).collect(),
        ..FrontProxy::default()
    };
    let tokens = BTreeSet::from(["static".to_string()]);
    Auth::new(
        Some(proxy),
        tokens,
        Some(delegate.clone() as Arc<dyn Delegate>),
    )
}

#[tokio::test]
async fn tokens_from_the_file_are_trusted_without_reviews() {
    let d = Arc::new(FakeDelegate::default());
    let auth = auth_with(&d, &[]);
    let who = auth
        .authenticate(
            &Peer::default(),
            &headers(&[("authorization", "Bearer static")]),
        )
        .await;
    assert_eq!(who, Some(Authenticated::TokenFile));
    let path = "/apis/metrics.k8s.io/v1beta1/nodes/n1";
    assert_eq!(
        auth.authorize(&Authenticated::TokenFile, path).await,
        Ok(Ok(()))
    );
    assert_eq!(d.token_reviews.load(Ordering::SeqCst), 0);
    assert_eq!(d.access_reviews.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn other_tokens_are_reviewed_once_and_cached() {
    let d = Arc::new(FakeDelegate::default());
    let auth = auth_with(&d, &[]);
    let good = headers(&[("authorization", "Bearer good")]);
    for _ in 0..3 {
        let who = auth.authenticate(&Peer::default(), &good).await;
        let Some(Authenticated::User(user)) = who else {
            panic!("good token refused: {who:?}")
        };
        assert_eq!(user.name, "alice");
        assert_eq!(user.groups, ["team"]);
    }
    assert_eq!(d.token_reviews.load(Ordering::SeqCst), 1);
    let bad = headers(&[("authorization", "Bearer bad")]);
    assert_eq!(auth.authenticate(&Peer::default(), &bad).await, None);
    let broken = headers(&[("authorization", "Bearer broken")]);
    assert_eq!(auth.authenticate(&Peer::default(), &broken).await, None);
}

#[tokio::test]
async fn the_front_proxy_needs_a_verified_allowed_certificate_and_a_user() {
    let d = Arc::new(FakeDelegate::default());
    let auth = auth_with(&d, &["front-proxy-client"]);
    let h = headers(&[
        ("x-remote-user", "bob"),
        ("x-remote-group", "devs"),
        ("x-remote-group", "system:authenticated"),
    ]);
    let who = auth
        .authenticate(&proxy_peer("front-proxy-client"), &h)
        .await;
    let want = User {
        name: "bob".into(),
        groups: vec!["devs".into(), "system:authenticated".into()],
    };
    assert_eq!(who, Some(Authenticated::User(want)));
    assert_eq!(
        auth.authenticate(&proxy_peer("someone-else"), &h).await,
        None
    );
    assert_eq!(auth.authenticate(&Peer::default(), &h).await, None);
    let no_user = headers(&[("x-remote-group", "devs")]);
    assert_eq!(
        auth.authenticate(&proxy_peer("front-proxy-client"), &no_user)
            .await,
        None
    );
    let any_name = auth_with(&d, &[]);
    assert!(any_name.authenticate(&proxy_peer("x"), &h).await.is_some());
}

#[tokio::test]
async fn users_are_authorized_by_access_review() {
    let d = Arc::new(FakeDelegate::default());
    let auth = auth_with(&d, &[]);
    let alice = Authenticated::User(User {
        name: "alice".into(),
        groups: vec![],
    });
    let list = "/apis/metrics.k8s.io/v1beta1/namespaces/web/pods";
    assert_eq!(auth.authorize(&alice, list).await, Ok(Ok(())));
    assert_eq!(auth.authorize(&alice, list).await, Ok(Ok(())));
    assert_eq!(d.access_reviews.load(Ordering::SeqCst), 1, "cached");
    let denied = auth
        .authorize(
            &alice,
            "/apis/metrics.k8s.io/v1beta1/namespaces/web/pods/p1",
        )
        .await;
    assert_eq!(
        denied,
        Ok(Err("pods.metrics.k8s.io \"p1\" is forbidden: User \"alice\" cannot get resource \"pods\" in API group \"metrics.k8s.io\" in the namespace \"web\": no rule".into()))
    );
}

#[tokio::test]
async fn without_a_delegate_authenticated_users_may_read() {
    let auth = Auth::new(Some(FrontProxy::default()), BTreeSet::new(), None);
    let h = headers(&[("x-remote-user", "bob")]);
    let who = auth.authenticate(&proxy_peer("any"), &h).await.unwrap();
    assert_eq!(
        auth.authorize(&who, "/apis/metrics.k8s.io/v1beta1/nodes")
            .await,
        Ok(Ok(()))
    );
    let bearer = headers(&[("authorization", "Bearer unknown")]);
    assert_eq!(auth.authenticate(&Peer::default(), &bearer).await, None);
}
