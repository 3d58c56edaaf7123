//! Query parameters (decoded once, form-style) and the cursor pagination of Okta's lists:
//! `limit`, `after=<id>`, and `Link` headers with `rel="self"` and `rel="next"`.

use url::form_urlencoded;

use super::Request;
use crate::error::OktaError;

/// A request's query string, raw and decoded.
#[derive(Debug, Clone, Default)]
pub(crate) struct Query {
    raw: String,
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Decodes `raw` once as `application/x-www-form-urlencoded`: `+` is a space, `%2B` a plus.
    pub fn parse(raw: &str) -> Self {
        Query {
            raw: raw.to_string(),
            pairs: form_urlencoded::parse(raw.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        }
    }

    /// The first value of `name`, treating an empty value as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// `limit`, or `default` when absent or not positive; capped at `max`.
    pub fn limit(&self, default: usize, max: usize) -> Result<usize, OktaError> {
        let Some(raw) = self.get("limit") else {
            return Ok(default);
        };
        let Ok(limit) = raw.trim().parse::<i64>() else {
            return Err(OktaError::validation(
                &["limit"],
                vec![format!("limit: The value must be an integer: {raw}")],
            ));
        };
        if limit <= 0 {
            return Ok(default);
        }
        Ok(usize::try_from(limit).unwrap_or(max).min(max))
    }

    /// The raw query string with every `after` parameter left out.
    fn raw_without_after(&self) -> Vec<&str> {
        self.raw
            .split('&')
            .filter(|piece| !piece.is_empty())
            .filter(|piece| {
                let key = piece.split('=').next().unwrap_or_default();
                form_urlencoded::parse(key.as_bytes())
                    .next()
                    .map(|(k, _)| k != "after")
                    .unwrap_or(true)
            })
            .collect()
    }
}

/// The `rel="self"` link of the request.
pub(crate) fn self_link(request: &Request<'_>) -> String {
    let query = if request.query.raw.is_empty() {
        String::new()
    } else {
        format!("?{}", request.query.raw)
    };
    format!("<{}{}{query}>; rel=\"self\"", request.base, request.path)
}

/// The `rel="next"` link: the request's own URL with `after` set to `cursor`.
fn next_link(request: &Request<'_>, cursor: &str) -> String {
    let mut pieces = request.query.raw_without_after();
    let after = format!(
        "after={}",
        form_urlencoded::byte_serialize(cursor.as_bytes()).collect::<String>()
    );
    pieces.push(&after);
    format!(
        "<{}{}?{}>; rel=\"next\"",
        request.base,
        request.path,
        pieces.join("&")
    )
}

/// One page of `items` (already ordered by id): those after the `after` cursor, at most
/// `limit` of them, with the `Link` header values to send.
pub(crate) fn page<T>(
    items: Vec<T>,
    id: impl Fn(&T) -> &str,
    request: &Request<'_>,
    limit: usize,
) -> (Vec<T>, Vec<String>) {
    let after = request.query.get("after");
    let mut rest: Vec<T> = items
        .into_iter()
        .filter(|item| after.is_none_or(|cursor| id(item) > cursor))
        .collect();
    let more = rest.len() > limit;
    rest.truncate(limit);
    let mut links = vec![self_link(request)];
    if more && let Some(last) = rest.last() {
        links.push(next_link(request, id(last)));
    }
    (rest, links)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    fn request(raw: &str) -> Request<'static> {
        Request {
            base: "http://127.0.0.1:9".into(),
            path: "/api/v1/groups",
            query: Query::parse(raw),
            body: b"",
            now: SystemTime::now(),
        }
    }

    #[test]
    fn a_plus_decodes_to_a_space_and_percent_2b_to_a_plus() {
        let q = Query::parse("q=a+b&search=x%2By");
        assert_eq!(q.get("q"), Some("a b"));
        assert_eq!(q.get("search"), Some("x+y"));
    }

    #[test]
    fn the_next_link_keeps_the_other_parameters_and_replaces_after() {
        let r = request("search=profile.name+sw+%22A%22&after=00g1&limit=1");
        let (items, links) = page(vec!["00g1", "00g2", "00g3"], |s| s, &r, 1);
        assert_eq!(items, vec!["00g2"]);
        assert_eq!(
            links,
            vec![
                "<http://127.0.0.1:9/api/v1/groups?search=profile.name+sw+%22A%22&after=00g1&limit=1>; rel=\"self\"".to_string(),
                "<http://127.0.0.1:9/api/v1/groups?search=profile.name+sw+%22A%22&limit=1&after=00g2>; rel=\"next\"".to_string(),
            ]
        );
    }

    #[test]
    fn the_last_page_has_no_next_link() {
        let r = request("limit=2&after=00g1");
        let (items, links) = page(vec!["00g1", "00g2", "00g3"], |s| s, &r, 2);
        assert_eq!(items, vec!["00g2", "00g3"]);
        assert_eq!(links.len(), 1);
    }

    #[test]
    fn limit_falls_back_to_the_default_and_is_capped() {
        assert_eq!(Query::parse("").limit(20, 200).ok(), Some(20));
        assert_eq!(Query::parse("limit=0").limit(20, 200).ok(), Some(20));
        assert_eq!(Query::parse("limit=500").limit(20, 200).ok(), Some(200));
        assert_eq!(Query::parse("limit=7").limit(20, 200).ok(), Some(7));
        assert!(Query::parse("limit=seven").limit(20, 200).is_err());
    }
}
