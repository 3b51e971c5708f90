//! Builds the method, path, query and body of every API request. No I/O.

use crate::model::*;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// A users-API request, relative to the base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiRequest {
    pub method: Method,
    /// Starts with `/{customer_id}`; segments are percent-encoded.
    pub path: String,
    /// Unencoded pairs, in the order they are sent.
    pub query: Vec<(&'static str, String)>,
    /// JSON.
    pub body: Option<String>,
}

impl ApiRequest {
    /// The path and query as sent on the wire.
    pub fn path_and_query(&self) -> String {
        let mut out = self.path.clone();
        for (i, (k, v)) in self.query.iter().enumerate() {
            out.push(if i == 0 { '?' } else { '&' });
            out.push_str(k);
            out.push('=');
            out.push_str(&percent_encode(v));
        }
        out
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters, so a value is safe both as a
/// path segment and as a query value (a upn's `@`, a number's `+`).
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn json<T: Serialize + ?Sized>(value: &T) -> Option<String> {
    // Serializing these plain structs cannot fail: no maps with non-string keys, no custom
    // serializers that error.
    Some(serde_json::to_string(value).expect("request bodies always serialize"))
}

fn flag(query: &mut Vec<(&'static str, String)>, name: &'static str, value: Option<bool>) {
    if let Some(v) = value {
        query.push((name, v.to_string()));
    }
}

fn key_id(query: &mut Vec<(&'static str, String)>, key_id: Option<KeyId>) {
    if let Some(k) = key_id {
        query.push(("key_id", k.as_str().to_string()));
    }
}

/// Builds requests for one customer.
#[derive(Debug, Clone)]
pub struct Requests {
    customer: String,
}

impl Requests {
    pub fn new(customer_id: &str) -> Self {
        Requests {
            customer: percent_encode(customer_id),
        }
    }

    fn path(&self, rest: &str) -> String {
        format!("/{}{rest}", self.customer)
    }

    pub fn onboard_agents(
        &self,
        agents: &[NewAgent],
        continue_on_error: Option<bool>,
        reassign_inbox: Option<bool>,
    ) -> ApiRequest {
        let mut query = Vec::new();
        flag(&mut query, "continueOnError", continue_on_error);
        flag(&mut query, "reassignInbox", reassign_inbox);
        ApiRequest {
            method: Method::Post,
            path: self.path("/agents"),
            query,
            body: json(agents),
        }
    }

    pub fn get_agent(&self, id: &str, key: Option<KeyId>, upn: Option<&str>) -> ApiRequest {
        let mut query = Vec::new();
        key_id(&mut query, key);
        if let Some(upn) = upn {
            query.push(("upn", upn.to_string()));
        }
        ApiRequest {
            method: Method::Get,
            path: self.path(&format!("/agents/{}", percent_encode(id))),
            query,
            body: None,
        }
    }

    pub fn list_agents(&self, filter: &AgentFilter) -> ApiRequest {
        let query = [
            ("user_object_id", &filter.user_object_id),
            ("tenant_id", &filter.tenant_id),
            ("consistency_id", &filter.consistency_id),
            ("phone_number", &filter.phone_number),
            ("upn", &filter.upn),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.clone().map(|v| (k, v)))
        .collect();
        ApiRequest {
            method: Method::Get,
            path: self.path("/agents"),
            query,
            body: None,
        }
    }

    pub fn update_agent(&self, id: &str, key: Option<KeyId>, changes: &AgentChanges) -> ApiRequest {
        let mut query = Vec::new();
        key_id(&mut query, key);
        ApiRequest {
            method: Method::Patch,
            path: self.path(&format!("/agents/{}", percent_encode(id))),
            query,
            body: json(changes),
        }
    }

    pub fn update_agents(
        &self,
        updates: &[AgentUpdate],
        continue_on_error: Option<bool>,
    ) -> ApiRequest {
        let mut query = Vec::new();
        flag(&mut query, "continueOnError", continue_on_error);
        ApiRequest {
            method: Method::Patch,
            path: self.path("/agents"),
            query,
            body: json(updates),
        }
    }

    pub fn offboard_agent(
        &self,
        id: &str,
        key: Option<KeyId>,
        deprovision: Option<bool>,
    ) -> ApiRequest {
        let mut query = Vec::new();
        key_id(&mut query, key);
        flag(&mut query, "deprovisionSupervisedInbox", deprovision);
        ApiRequest {
            method: Method::Delete,
            path: self.path(&format!("/agents/{}", percent_encode(id))),
            query,
            body: None,
        }
    }

    pub fn offboard_agents(
        &self,
        items: &[OffboardItem],
        continue_on_error: Option<bool>,
        deprovision: Option<bool>,
    ) -> ApiRequest {
        let mut query = Vec::new();
        flag(&mut query, "continueOnError", continue_on_error);
        flag(&mut query, "deprovisionSupervisedInbox", deprovision);
        ApiRequest {
            method: Method::Post,
            path: self.path("/agents/offboard"),
            query,
            body: json(items),
        }
    }

    pub fn create_inboxes(
        &self,
        inboxes: &[NewInbox],
        continue_on_error: Option<bool>,
    ) -> ApiRequest {
        let mut query = Vec::new();
        flag(&mut query, "continueOnError", continue_on_error);
        ApiRequest {
            method: Method::Post,
            path: self.path("/inboxes"),
            query,
            body: json(inboxes),
        }
    }

    pub fn assign_inboxes(&self, assignments: &[Assignment]) -> ApiRequest {
        ApiRequest {
            method: Method::Post,
            path: self.path("/inboxes/assignments"),
            query: Vec::new(),
            body: json(assignments),
        }
    }

    pub fn list_numbers(&self, status: Option<NumberStatus>, matching: Option<&str>) -> ApiRequest {
        let mut query = Vec::new();
        if let Some(s) = status {
            query.push(("status", s.as_str().to_string()));
        }
        if let Some(m) = matching {
            query.push(("match", m.to_string()));
        }
        ApiRequest {
            method: Method::Get,
            path: self.path("/numbers"),
            query,
            body: None,
        }
    }
}
