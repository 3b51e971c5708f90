//! Microsoft Entra's token endpoint and Microsoft Graph's group members, as the Graph roster
//! reader meets them: `POST /{tenant}/oauth2/v2.0/token` (the client-credentials grant) and
//! `GET /v1.0/groups/{id}/transitiveMembers` with `$select`, `$top` and `$skiptoken` pages.
//! Groups hold users, devices, service principals and groups. Its own types: it shares
//! nothing with the client.

use crate::state::Answer;
use crate::wire::Query;
use http::Method;
use serde_json::{Map, Value, json};
use std::collections::{BTreeSet, HashMap, HashSet};

pub const CLIENT_ID: &str = "11111111-2222-3333-4444-555555555555";
pub const CLIENT_SECRET: &str = "emulator-graph-secret";
pub const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";
const TOKEN_LIFETIME_SECS: u64 = 3599;

/// The permissions an app needs to list a group's members, one of them.
const MEMBER_PERMISSIONS: [&str; 3] = [
    "GroupMember.Read.All",
    "Group.Read.All",
    "Directory.Read.All",
];
/// Without one of these, users come back with their id alone.
const USER_PERMISSIONS: [&str; 2] = ["User.Read.All", "Directory.Read.All"];

/// The properties a user object has; `$select` may name only these.
const USER_PROPERTIES: [&str; 24] = [
    "id",
    "displayName",
    "userPrincipalName",
    "mail",
    "givenName",
    "surname",
    "jobTitle",
    "department",
    "companyName",
    "officeLocation",
    "employeeId",
    "city",
    "state",
    "postalCode",
    "country",
    "streetAddress",
    "accountEnabled",
    "businessPhones",
    "mobilePhone",
    "preferredLanguage",
    "employeeType",
    "usageLocation",
    "onPremisesSamAccountName",
    "mailNickname",
];
/// What Graph returns of a user without `$select`.
const DEFAULT_USER_PROPERTIES: [&str; 11] = [
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
];

/// The directory: one app registration, its granted permissions, groups and tokens.
pub struct Directory {
    permissions: BTreeSet<String>,
    groups: HashMap<String, Vec<Map<String, Value>>>,
    tokens: HashSet<String>,
    issued: u64,
}

impl Default for Directory {
    fn default() -> Self {
        Directory {
            permissions: ["GroupMember.Read.All", "User.Read.All"]
                .map(String::from)
                .into(),
            groups: HashMap::new(),
            tokens: HashSet::new(),
            issued: 0,
        }
    }
}

/// The route template of an Entra or Graph request, or `None` for a users-API one.
pub fn route_of(method: &Method, segments: &[String]) -> Option<String> {
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    match segments.as_slice() {
        [_, "oauth2", "v2.0", "token"] => Some(format!("{method} /{{tenant}}/oauth2/v2.0/token")),
        ["v1.0", "groups", _, "transitiveMembers"] => {
            Some(format!("{method} /v1.0/groups/{{id}}/transitiveMembers"))
        }
        ["v1.0", ..] => Some(format!("{method} /v1.0/?")),
        _ => None,
    }
}

/// `application/x-www-form-urlencoded`, decoded as a query string is.
fn form(body: &[u8]) -> Query {
    Query::parse(&String::from_utf8_lossy(body))
}

fn oauth_error(status: u16, error: &str, description: &str) -> Answer {
    (
        status,
        json!({"error": error, "error_description": description, "error_codes": [], "trace_id": "emulator"}),
    )
}

fn graph_error(status: u16, code: &str, message: &str) -> Answer {
    (status, json!({"error": {"code": code, "message": message}}))
}

impl Directory {
    pub fn set_group(&mut self, id: &str, members: Vec<Map<String, Value>>) {
        self.groups.insert(id.to_string(), members);
    }

    pub fn set_permissions(&mut self, permissions: &[String]) {
        self.permissions = permissions.iter().cloned().collect();
    }

    fn granted(&self, any_of: &[&str]) -> bool {
        any_of.iter().any(|p| self.permissions.contains(*p))
    }

    /// Answers an Entra or Graph request; its `Host` names this server in next links.
    pub fn answer(
        &mut self,
        parts: &http::request::Parts,
        segments: &[String],
        query: &str,
        body: &[u8],
    ) -> Answer {
        let header =
            |name: http::header::HeaderName| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let (content_type, authorization) = (
            header(http::header::CONTENT_TYPE),
            header(http::header::AUTHORIZATION),
        );
        let host = header(http::header::HOST).unwrap_or("127.0.0.1");
        let method = &parts.method;
        match segments
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            [tenant, "oauth2", "v2.0", "token"] if method == Method::POST => {
                self.token(tenant, content_type, body)
            }
            [_, "oauth2", "v2.0", "token"] => oauth_error(405, "invalid_request", "POST only"),
            ["v1.0", "groups", id, "transitiveMembers"] if method == Method::GET => {
                if !authorization
                    .and_then(|a| a.strip_prefix("Bearer "))
                    .is_some_and(|t| self.tokens.contains(t))
                {
                    return graph_error(
                        401,
                        "InvalidAuthenticationToken",
                        "Access token is empty or invalid.",
                    );
                }
                self.members(id, query, host)
            }
            _ => graph_error(400, "Request_BadRequest", "Unsupported request."),
        }
    }

    fn token(&mut self, tenant: &str, content_type: Option<&str>, body: &[u8]) -> Answer {
        if !content_type.is_some_and(|c| c.starts_with("application/x-www-form-urlencoded")) {
            return oauth_error(
                400,
                "invalid_request",
                "AADSTS900144: The request body must contain the following parameter: 'grant_type'.",
            );
        }
        let form = form(body);
        let field = |name: &str| form.get(name).unwrap_or("");
        if field("grant_type") != "client_credentials" {
            return oauth_error(
                400,
                "unsupported_grant_type",
                "AADSTS70003: The app requested an unsupported grant type.",
            );
        }
        match field("client_id") {
            "" => {
                return oauth_error(
                    400,
                    "invalid_request",
                    "AADSTS900144: The request body must contain the following parameter: 'client_id'.",
                );
            }
            CLIENT_ID => {}
            other => {
                return oauth_error(
                    400,
                    "unauthorized_client",
                    &format!(
                        "AADSTS700016: Application with identifier '{other}' was not found in the directory '{tenant}'."
                    ),
                );
            }
        }
        if field("client_secret") != CLIENT_SECRET {
            return oauth_error(
                401,
                "invalid_client",
                "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
            );
        }
        if field("scope") != GRAPH_SCOPE {
            return oauth_error(
                400,
                "invalid_scope",
                "AADSTS1002012: The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.",
            );
        }
        self.issued += 1;
        let token = format!("graph-{tenant}-{}", self.issued);
        self.tokens.insert(token.clone());
        (
            200,
            json!({"token_type": "Bearer", "expires_in": TOKEN_LIFETIME_SECS,
                   "ext_expires_in": TOKEN_LIFETIME_SECS, "access_token": token}),
        )
    }

    fn members(&self, group: &str, query: &str, host: &str) -> Answer {
        if !self.granted(&MEMBER_PERMISSIONS) {
            return graph_error(
                403,
                "Authorization_RequestDenied",
                "Insufficient privileges to complete the operation.",
            );
        }
        let Some(members) = self.groups.get(group) else {
            return graph_error(
                404,
                "Request_ResourceNotFound",
                &format!(
                    "Resource '{group}' does not exist or one of its queried reference-property objects are not present."
                ),
            );
        };
        let page = match Page::parse(query) {
            Ok(page) => page,
            Err(answer) => return answer,
        };
        let users_readable = self.granted(&USER_PERMISSIONS);
        let value: Vec<Value> = members
            .iter()
            .skip(page.skip)
            .take(page.top)
            .map(|m| page.shown(m, users_readable))
            .collect();
        let mut answer = json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directoryObjects",
            "value": value,
        });
        if page.skip + page.top < members.len() {
            answer["@odata.nextLink"] = json!(page.next_link(host, group));
        }
        (200, answer)
    }
}

/// A members request's query: `$select`, `$top` (at most 999) and `$skiptoken`.
struct Page {
    select: Option<Vec<String>>,
    top: usize,
    skip: usize,
}

impl Page {
    fn parse(query: &str) -> Result<Page, Answer> {
        let bad = |message: String| graph_error(400, "Request_BadRequest", &message);
        let mut page = Page {
            select: None,
            top: 100,
            skip: 0,
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let (name, value) = (crate::percent_decode(name), crate::percent_decode(value));
            match name.as_str() {
                "$select" => {
                    let properties: Vec<String> = value.split(',').map(str::to_string).collect();
                    if let Some(unknown) = properties
                        .iter()
                        .find(|p| !USER_PROPERTIES.contains(&p.as_str()))
                    {
                        return Err(bad(format!(
                            "Parsing OData Select and Expand failed: Could not find a property named '{unknown}' on type 'microsoft.graph.user'."
                        )));
                    }
                    page.select = Some(properties);
                }
                "$top" => match value.parse::<usize>() {
                    Ok(n @ 1..=999) => page.top = n,
                    _ => {
                        return Err(bad(format!(
                            "Invalid page size specified: '{value}'. Must be between 1 and 999 inclusive."
                        )));
                    }
                },
                "$skiptoken" => match value.strip_prefix("skip-").and_then(|n| n.parse().ok()) {
                    Some(n) => page.skip = n,
                    None => return Err(bad("Invalid paging token.".into())),
                },
                other => {
                    return Err(bad(format!(
                        "Unrecognized query argument specified: '{other}'."
                    )));
                }
            }
        }
        Ok(page)
    }

    /// A member as Graph shows it: its type and id, and for a user the selected properties
    /// (null where unset), or only its id when the app may not read users.
    fn shown(&self, member: &Map<String, Value>, users_readable: bool) -> Value {
        let mut shown = Map::new();
        for key in ["@odata.type", "id"] {
            shown.insert(key.into(), member.get(key).cloned().unwrap_or(Value::Null));
        }
        let is_user = member.get("@odata.type") == Some(&json!("#microsoft.graph.user"));
        if !is_user || !users_readable {
            return Value::Object(shown);
        }
        let selected: Vec<&str> = match &self.select {
            Some(properties) => properties.iter().map(String::as_str).collect(),
            None => DEFAULT_USER_PROPERTIES.to_vec(),
        };
        for property in selected {
            shown.insert(
                property.into(),
                member.get(property).cloned().unwrap_or(Value::Null),
            );
        }
        Value::Object(shown)
    }

    fn next_link(&self, host: &str, group: &str) -> String {
        let mut query = vec![format!("$top={}", self.top)];
        if let Some(select) = &self.select {
            query.insert(0, format!("$select={}", select.join(",")));
        }
        query.push(format!("$skiptoken=skip-{}", self.skip + self.top));
        format!(
            "http://{host}/v1.0/groups/{group}/transitiveMembers?{}",
            query.join("&")
        )
    }
}

/// Redacts the client secret of a token request's form, for the request log.
pub fn redacted_form(body: &[u8]) -> Value {
    let mut form = form(body).into_map();
    if let Some(secret) = form.get_mut("client_secret") {
        *secret = "<redacted>".into();
    }
    json!(form)
}
