//! Reads an Entra group's members through Microsoft Graph, as a roster: a token by the
//! client-credentials grant, then the group's members page by page, users only, through the
//! `entra` mapping.
//!
//! `transitiveMembers`, not `members`: a store's team may hold the shift groups that hold the
//! people. No `microsoft.graph.user` cast: on `transitiveMembers` it is an advanced query
//! (`ConsistencyLevel: eventual` and `$count`), and the reader must skip what is not a user
//! (devices, service principals, groups) by its `@odata.type` either way.

use crate::client::Client;
use crate::config::GraphSettings;
use crate::entra::{self, Extra, Mapping, User};
use crate::error::{ApiError, Problem};
use crate::request::{Method, percent_encode};
use crate::response::{self, RawResponse};
use crate::sync::DesiredAgent;
use crate::transport::{HttpRequest, Transport};
use serde_json::Value;
use std::collections::HashSet;

/// The application permissions the reader needs, with an administrator's consent.
pub const PERMISSIONS: &str = "GroupMember.Read.All and User.Read.All";
/// The scope of the client-credentials grant: the app's granted Graph permissions.
pub const SCOPE: &str = "https://graph.microsoft.com/.default";
/// Graph's largest page of a members list.
pub const PAGE_SIZE: u32 = 999;
/// A token is renewed this long before Entra says it expires, or at half its life when that
/// is shorter.
const RENEW_BEFORE_SECS: u64 = 120;
/// The most pages one read follows: 999 members each, about a million members in all. A
/// group past it, or a next link that leads back to a page already read, is an error, not a
/// read that never ends.
pub const MAX_PAGES: usize = 1_000;
const USER_TYPE: &str = "#microsoft.graph.user";

/// A group's roster, and what reading it took.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupRoster {
    pub roster: Vec<DesiredAgent>,
    /// Members that are not users (devices, service principals, groups), left out.
    pub skipped: usize,
    pub pages: usize,
}

/// A Graph access token, and when to stop using it (Unix seconds).
struct GraphToken {
    value: String,
    renew_at: u64,
}

/// The token request: a form-encoded POST to `{login}/{tenant}/oauth2/v2.0/token`.
pub fn token_request(settings: &GraphSettings, tenant_id: &str) -> (String, String) {
    let form = [
        ("client_id", settings.client_id.as_str()),
        ("client_secret", settings.client_secret.as_str()),
        ("grant_type", "client_credentials"),
        ("scope", SCOPE),
    ]
    .iter()
    .map(|(name, value)| format!("{name}={}", percent_encode(value)))
    .collect::<Vec<_>>()
    .join("&");
    let url = format!(
        "{}/{}/oauth2/v2.0/token",
        settings.login_url,
        percent_encode(tenant_id)
    );
    (url, form)
}

/// The first page of the group's members, with every property the mapping reads.
pub fn members_url(settings: &GraphSettings, group_id: &str, properties: &[&str]) -> String {
    format!(
        "{}/v1.0/groups/{}/transitiveMembers?$select={}&$top={PAGE_SIZE}",
        settings.graph_url,
        percent_encode(group_id),
        properties.join(",")
    )
}

fn json_of(raw: &RawResponse) -> Option<Value> {
    serde_json::from_slice(&raw.body).ok()
}

fn unexpected(raw: &RawResponse, why: &str) -> ApiError {
    ApiError::UnexpectedResponse {
        status: raw.status,
        content_type: raw.content_type.clone(),
        body_excerpt: why.to_string(),
    }
}

/// Entra's answer to the token request: the token, or why the credentials were refused.
fn token_of(raw: &RawResponse, settings: &GraphSettings, now: u64) -> Result<GraphToken, ApiError> {
    let body = json_of(raw).unwrap_or(Value::Null);
    if raw.status == 200 {
        let value = body["access_token"].as_str().filter(|t| !t.is_empty());
        let expires_in = body["expires_in"].as_u64().unwrap_or(3599);
        return match value {
            Some(value) => Ok(GraphToken {
                value: value.to_string(),
                renew_at: now + expires_in - RENEW_BEFORE_SECS.min(expires_in / 2),
            }),
            None => Err(unexpected(raw, "a token answer without an access_token")),
        };
    }
    if raw.status == 429 || raw.status >= 500 {
        return Err(response::error_for(raw, now));
    }
    // AADSTS codes: the description's first sentence says which; never the secret.
    let error = body["error"].as_str().unwrap_or("refused");
    let description = body["error_description"].as_str().unwrap_or("");
    let first_sentence = description.split(". ").next().unwrap_or("");
    Err(ApiError::Unauthorized(format!(
        "Microsoft Entra refused the app's credentials (SMARTCOMM_GRAPH_CLIENT_ID {}, \
         SMARTCOMM_GRAPH_CLIENT_SECRET): {error}: {first_sentence}",
        settings.client_id
    )))
}

/// A members page: its users, how many members were not users, and the next page's URL.
pub fn members_page(
    raw: &RawResponse,
    group_id: &str,
    now: u64,
) -> Result<(Vec<User>, usize, Option<String>), ApiError> {
    let body = json_of(raw);
    let graph_error = || {
        let error = body.as_ref().map(|b| &b["error"]);
        let code = error.and_then(|e| e["code"].as_str()).unwrap_or("");
        let message = error.and_then(|e| e["message"].as_str()).unwrap_or("");
        format!("{code}: {message}")
    };
    match raw.status {
        200 => {}
        401 | 403 => {
            return Err(ApiError::Unauthorized(format!(
                "Microsoft Graph refused to list the members of group {group_id} ({}): the app \
                 needs the application permissions {PERMISSIONS}, with admin consent",
                graph_error()
            )));
        }
        404 => {
            return Err(ApiError::NotFound(format!(
                "no Entra group {group_id} ({})",
                graph_error()
            )));
        }
        429 | 500.. => return Err(response::error_for(raw, now)),
        _ => return Err(unexpected(raw, &graph_error())),
    }
    let Some(Value::Object(mut page)) = body else {
        return Err(unexpected(raw, "a members page that is not a JSON object"));
    };
    let Some(Value::Array(members)) = page.remove("value") else {
        return Err(unexpected(raw, "a members page without a `value` list"));
    };
    let next = page
        .get("@odata.nextLink")
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut users = Vec::new();
    let mut skipped = 0;
    for member in members {
        match member {
            Value::Object(user)
                if user.get("@odata.type").and_then(Value::as_str) == Some(USER_TYPE) =>
            {
                // Without User.Read.All, Graph lists users with their id alone.
                if !user.contains_key("userPrincipalName") {
                    return Err(ApiError::Unauthorized(format!(
                        "Microsoft Graph listed the users of group {group_id} without their \
                         properties: the app needs the application permissions {PERMISSIONS}, \
                         with admin consent"
                    )));
                }
                users.push(user);
            }
            _ => skipped += 1,
        }
    }
    Ok((users, skipped, next))
}

/// A next link leads to Graph itself, or nowhere (the bearer token goes nowhere else), to a
/// page not read yet, and no further than [`MAX_PAGES`].
fn check_next_page(
    graph: &GraphSettings,
    url: &str,
    read: &HashSet<String>,
) -> Result<(), ApiError> {
    let refused = |why: String| ApiError::UnexpectedResponse {
        status: 200,
        content_type: None,
        body_excerpt: why,
    };
    if !url.starts_with(&format!("{}/", graph.graph_url)) {
        return Err(refused(format!("a next page outside {}", graph.graph_url)));
    }
    if read.contains(url) {
        return Err(refused(format!(
            "a next link back to a page already read, after {} pages",
            read.len()
        )));
    }
    if read.len() >= MAX_PAGES {
        return Err(refused(format!(
            "more than {MAX_PAGES} pages of members: the read stops there"
        )));
    }
    Ok(())
}

fn check_ids(tenant_id: &str, group_id: &str) -> Result<(), ApiError> {
    let mut problems = Vec::new();
    for (field, value) in [("tenant_id", tenant_id), ("group_id", group_id)] {
        if value.trim().is_empty() || value.contains(char::is_whitespace) {
            problems.push(Problem {
                index: None,
                field: field.into(),
                message: format!("{value:?} is not an Entra id"),
            });
        }
    }
    match problems.is_empty() {
        true => Ok(()),
        false => Err(ApiError::InvalidInput(problems)),
    }
}

impl<T: Transport> Client<T> {
    /// The members of Entra group `group_id` of directory `tenant_id`, as a roster of agents
    /// of that tenant: users only, through `mapping`, with what `extras` add. The input is
    /// checked before anything is sent; a 429 or 503 is retried after its `Retry-After`,
    /// under the client's retry policy.
    pub async fn read_group(
        &self,
        graph: &GraphSettings,
        tenant_id: &str,
        group_id: &str,
        mapping: &Mapping,
        extras: &[Extra],
    ) -> Result<GroupRoster, ApiError> {
        let _call = self.begin_call();
        check_ids(tenant_id, group_id)?;
        let resolved = mapping.resolve().map_err(ApiError::InvalidInput)?;
        let mut token: Option<GraphToken> = None;
        let mut url = Some(members_url(graph, group_id, &resolved.properties()));
        let (mut users, mut skipped) = (Vec::new(), 0);
        let mut read: HashSet<String> = HashSet::new();
        while let Some(page_url) = url.take() {
            check_next_page(graph, &page_url, &read)?;
            // A token refused in mid-read (revoked, or expired early) is fetched again once.
            let mut renewed = false;
            let raw = loop {
                if token.as_ref().is_none_or(|t| self.now() >= t.renew_at) {
                    token = Some(self.graph_token(graph, tenant_id).await?);
                }
                let bearer = format!("Bearer {}", token.as_ref().expect("a token").value);
                let raw = self.graph_get(&page_url, bearer).await?;
                if raw.status != 401 || renewed {
                    break raw;
                }
                renewed = true;
                token = None;
            };
            let (mut page, not_users, next) = members_page(&raw, group_id, self.now())?;
            users.append(&mut page);
            skipped += not_users;
            read.insert(page_url);
            url = next;
        }
        let pages = read.len();
        let roster =
            entra::roster(&users, tenant_id, &resolved, extras).map_err(ApiError::InvalidInput)?;
        Ok(GroupRoster {
            roster,
            skipped,
            pages,
        })
    }

    async fn graph_token(
        &self,
        graph: &GraphSettings,
        tenant_id: &str,
    ) -> Result<GraphToken, ApiError> {
        let (url, form) = token_request(graph, tenant_id);
        let content_type = ("content-type", "application/x-www-form-urlencoded".into());
        let request = self.graph_request(Method::Post, url, content_type, Some(form))?;
        // A 429 or 5xx left after the retries is an error here; a refusal (400, 401) is an
        // answer, which says why.
        let raw = self.send_with_retries(&request).await?;
        token_of(&raw, graph, self.now())
    }

    async fn graph_get(&self, url: &str, bearer: String) -> Result<RawResponse, ApiError> {
        let authorization = ("authorization", bearer);
        let request = self.graph_request(Method::Get, url.to_string(), authorization, None)?;
        self.send_with_retries(&request).await
    }

    /// A JSON-answered request to Entra or Graph, within the client's timeout and size limit.
    fn graph_request(
        &self,
        method: Method,
        url: String,
        header: (&'static str, String),
        body: Option<String>,
    ) -> Result<HttpRequest, ApiError> {
        let settings = self.settings()?;
        Ok(HttpRequest {
            method,
            url,
            headers: vec![("accept", "application/json".into()), header],
            body,
            timeout_ms: settings.timeout_ms,
            max_response_bytes: settings.max_response_bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> GraphSettings {
        GraphSettings {
            client_id: "app-1".into(),
            client_secret: "s3cret&=".into(),
            graph_url: "https://graph.example".into(),
            login_url: "https://login.example".into(),
        }
    }

    #[test]
    fn the_token_request_is_a_form_for_the_tenant_with_the_graph_scope() {
        let (url, form) = token_request(&settings(), "tenant-1");
        assert_eq!(url, "https://login.example/tenant-1/oauth2/v2.0/token");
        assert_eq!(
            form,
            "client_id=app-1&client_secret=s3cret%26%3D&grant_type=client_credentials\
             &scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"
        );
    }

    #[test]
    fn a_refused_secret_names_the_credentials_and_never_the_secret() {
        let answer = RawResponse::json_answer(
            401,
            r#"{"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent is correct. Trace ID: x"}"#,
        );
        let Err(ApiError::Unauthorized(message)) = token_of(&answer, &settings(), 0) else {
            panic!("refused");
        };
        assert!(
            message.contains("SMARTCOMM_GRAPH_CLIENT_SECRET"),
            "{message}"
        );
        assert!(message.contains("AADSTS7000215: Invalid client secret provided"));
        assert!(!message.contains("s3cret"));
    }

    #[test]
    fn a_page_keeps_users_skips_other_members_and_gives_the_next_link() {
        let answer = RawResponse::json_answer(
            200,
            r##"{"@odata.nextLink": "https://graph.example/v1.0/next", "value": [
                {"@odata.type": "#microsoft.graph.user", "id": "u1", "userPrincipalName": "a@x"},
                {"@odata.type": "#microsoft.graph.device", "id": "d1"},
                {"@odata.type": "#microsoft.graph.group", "id": "g1"}
            ]}"##,
        );
        let (users, skipped, next) = members_page(&answer, "g", 0).unwrap();
        assert_eq!((users.len(), skipped), (1, 2));
        assert_eq!(next.as_deref(), Some("https://graph.example/v1.0/next"));
    }

    #[test]
    fn graph_refusals_name_the_permissions_and_an_unknown_group_is_not_found() {
        for status in [401, 403] {
            let answer = RawResponse::json_answer(
                status,
                r#"{"error": {"code": "Authorization_RequestDenied", "message": "Insufficient privileges"}}"#,
            );
            let Err(ApiError::Unauthorized(message)) = members_page(&answer, "g", 0) else {
                panic!("refused");
            };
            assert!(message.contains(PERMISSIONS), "{message}");
        }
        let limited = RawResponse::json_answer(
            200,
            r##"{"value": [{"@odata.type": "#microsoft.graph.user", "id": "u1"}]}"##,
        );
        assert!(
            matches!(members_page(&limited, "g", 0), Err(ApiError::Unauthorized(m)) if m.contains("User.Read.All"))
        );
        let missing = RawResponse::json_answer(
            404,
            r#"{"error": {"code": "Request_ResourceNotFound", "message": "no"}}"#,
        );
        assert!(matches!(
            members_page(&missing, "g", 0),
            Err(ApiError::NotFound(_))
        ));
    }

    #[test]
    fn the_members_url_selects_every_property_the_mapping_reads() {
        let mapping = Mapping::default();
        let resolved = mapping.resolve().unwrap();
        let url = members_url(&settings(), "g 1", &resolved.properties());
        assert_eq!(
            url,
            "https://graph.example/v1.0/groups/g%201/transitiveMembers?$select=accountEnabled,\
             city,companyName,department,displayName,employeeId,id,postalCode,state,\
             userPrincipalName&$top=999"
        );
    }
}
