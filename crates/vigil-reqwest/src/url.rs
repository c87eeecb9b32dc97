//! What of a request's URL goes into spans and breadcrumbs.

use reqwest::Url;

/// A URL split as Sentry's `http.client` spans want it: the URL without
/// query, fragment and credentials, and the query and fragment apart.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct SplitUrl {
    pub(crate) url: String,
    pub(crate) query: Option<String>,
    pub(crate) fragment: Option<String>,
}

impl SplitUrl {
    pub(crate) fn of(url: &Url) -> SplitUrl {
        let query = url.query().filter(|q| !q.is_empty()).map(str::to_owned);
        let fragment = url.fragment().filter(|f| !f.is_empty()).map(str::to_owned);
        let mut bare = url.clone();
        bare.set_query(None);
        bare.set_fragment(None);
        // Only fails for URLs that cannot have credentials, which then have
        // none to remove.
        let _ = bare.set_username("");
        let _ = bare.set_password(None);
        SplitUrl {
            url: bare.into(),
            query,
            fragment,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_fragment_and_credentials_are_split_off() {
        let url =
            Url::parse("https://user:secret@api.example.com:8443/items/42?page=2&q=x#top").unwrap();
        assert_eq!(
            SplitUrl::of(&url),
            SplitUrl {
                url: "https://api.example.com:8443/items/42".into(),
                query: Some("page=2&q=x".into()),
                fragment: Some("top".into()),
            }
        );
        let plain = Url::parse("http://localhost/").unwrap();
        assert_eq!(
            SplitUrl::of(&plain),
            SplitUrl {
                url: "http://localhost/".into(),
                query: None,
                fragment: None,
            }
        );
    }
}
