//! The SCIM service over the SmartCommunicator client: its settings, the bearer token, and
//! which endpoint answers a request. `users` and `groups` hold the endpoints.

use crate::discovery;
use crate::error::ScimError;
use crate::exchange::{ScimRequest, ScimResponse, bearer_token, same_secret};
use crate::group::Inboxes;
use smartcomm::client::Client;
use smartcomm::config::Config;
use smartcomm::error::Problem;
use smartcomm::model::{Agent, AgentFilter, IdentifierKind};
use smartcomm::transport::Transport;
use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

/// The environment variables of the bridge's own settings (the client's are `SMARTCOMM_*`).
pub mod var {
    pub const TENANT_ID: &str = "SMARTCOMM_SCIM_TENANT_ID";
    pub const TOKEN: &str = "SMARTCOMM_SCIM_TOKEN";
    pub const INBOXES: &str = "SMARTCOMM_SCIM_INBOXES";
    pub const BASE_URL: &str = "SMARTCOMM_SCIM_BASE_URL";
}

/// How long a list of the tenant's agents serves the pages of a listing after it.
const TENANT_LIST_TTL_MS: u64 = 30_000;

pub struct Settings {
    /// The Entra tenant every agent belongs to: one bridge per tenant.
    pub tenant_id: String,
    /// The bearer token the identity provider sends.
    pub token: String,
    pub inboxes: Inboxes,
    /// The public URL of the SCIM base (`https://…/scim/v2`), when a proxy hides it.
    pub base_url: Option<String>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("tenant_id", &self.tenant_id)
            .field("inboxes", &self.inboxes)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl Settings {
    /// The client's config and the bridge's settings, from the environment; every problem
    /// names its variable.
    pub fn from_env(
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<(Config, Settings), Vec<Problem>> {
        let get = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let config = Config::from_env(get);
        let mut problems = config.as_ref().err().cloned().unwrap_or_default();
        let mut required = |name: &str| {
            get(name).unwrap_or_else(|| {
                problems.push(Problem {
                    index: None,
                    field: name.into(),
                    message: "is required".into(),
                });
                String::new()
            })
        };
        let tenant_id = required(var::TENANT_ID);
        // As the host reads it: a token file's or a secret's trailing newline is not part of it.
        let token = required(var::TOKEN).trim().to_string();
        let inboxes = match get(var::INBOXES) {
            None => Inboxes::default(),
            Some(json) => Inboxes::parse(&json).unwrap_or_else(|message| {
                problems.push(Problem {
                    index: None,
                    field: var::INBOXES.into(),
                    message,
                });
                Inboxes::default()
            }),
        };
        let base_url = get(var::BASE_URL).map(|u| u.trim_end_matches('/').to_string());
        match (config, problems.is_empty()) {
            (Ok(config), true) => Ok((
                config,
                Settings {
                    tenant_id,
                    token,
                    inboxes,
                    base_url,
                },
            )),
            _ => Err(problems),
        }
    }
}

/// The SCIM service of one component instance: its client (and token) serves every request
/// the instance handles.
pub struct Bridge<T> {
    pub(crate) client: Client<T>,
    pub(crate) settings: Settings,
    /// The tenant's agents as last listed, and when (milliseconds on the client's clock).
    tenant_list: RefCell<Option<(u64, Rc<Vec<Agent>>)>>,
}

impl<T: Transport> Bridge<T> {
    pub fn new(config: Config, settings: Settings, transport: T) -> Self {
        Bridge {
            client: Client::new(config, transport),
            settings,
            tenant_list: RefCell::new(None),
        }
    }

    /// Whether an `Authorization` header carries the bridge's token: checked before the body
    /// is read, so that a client without it costs nothing more.
    pub fn authorizes(&self, authorization: Option<&str>) -> bool {
        authorization
            .and_then(bearer_token)
            .is_some_and(|given| same_secret(given, &self.settings.token))
    }

    /// Answers one request: one call of the client, so that its API requests share the call's
    /// deadline.
    pub async fn handle(&self, request: &ScimRequest) -> ScimResponse {
        if !self.authorizes(request.authorization.as_deref()) {
            return ScimError::unauthorized().into();
        }
        let _call = self.client.begin_call();
        self.route(request).await.unwrap_or_else(ScimResponse::from)
    }

    async fn route(&self, request: &ScimRequest) -> Result<ScimResponse, ScimError> {
        let (resource, _) = request.split_path();
        let base = self.base_url(request);
        let segments: Vec<&str> = resource.split('/').filter(|s| !s.is_empty()).collect();
        let method = request.method.to_ascii_uppercase();
        match (method.as_str(), segments.as_slice()) {
            ("GET", ["ServiceProviderConfig"]) => Ok(ScimResponse::json(
                200,
                discovery::service_provider_config(&base),
            )),
            ("GET", ["ResourceTypes"]) => {
                let types = discovery::resource_types(&base);
                Ok(ScimResponse::json(
                    200,
                    discovery::list(types.clone(), types.len(), 1),
                ))
            }
            ("GET", ["ResourceTypes", id]) => one_of(discovery::resource_types(&base), id),
            ("GET", ["Schemas"]) => {
                let schemas = discovery::schemas(&base);
                Ok(ScimResponse::json(
                    200,
                    discovery::list(schemas.clone(), schemas.len(), 1),
                ))
            }
            ("GET", ["Schemas", id]) => one_of(discovery::schemas(&base), id),
            (_, ["ServiceProviderConfig" | "ResourceTypes" | "Schemas", ..]) => {
                Err(ScimError::method_not_allowed(format!(
                    "{method} {resource}: discovery is read-only"
                )))
            }
            (_, ["Users", rest @ ..]) => self.users(&method, rest, request, &base).await,
            (_, ["Groups", rest @ ..]) => self.groups(&method, rest, request, &base).await,
            _ => Err(ScimError::not_found(format!(
                "no SCIM endpoint at {resource}"
            ))),
        }
    }

    /// The public base URL: the setting, else the request's host (and the proxy's headers).
    fn base_url(&self, request: &ScimRequest) -> String {
        if let Some(base) = &self.settings.base_url {
            return base.clone();
        }
        let (_, base_path) = request.split_path();
        let host = request
            .forwarded_host
            .as_deref()
            .or(request.host.as_deref())
            .unwrap_or("localhost");
        let scheme = request.forwarded_proto.as_deref().unwrap_or("http");
        format!("{scheme}://{host}{base_path}")
    }

    /// Every agent of the tenant: one list request, reused for the pages of a listing that
    /// follow it. Each instance keeps its own, so it serves reads only; a change is computed
    /// from [`Bridge::tenant_agents_now`].
    pub(crate) async fn tenant_agents(&self) -> Result<Rc<Vec<Agent>>, ScimError> {
        let now = self.client.transport().now_ms();
        if let Some((at, agents)) = self.tenant_list.borrow().as_ref()
            && now.saturating_sub(*at) < TENANT_LIST_TTL_MS
        {
            return Ok(agents.clone());
        }
        let agents = self.tenant_agents_now().await?;
        *self.tenant_list.borrow_mut() = Some((now, agents.clone()));
        Ok(agents)
    }

    /// Every agent of the tenant, read for this request.
    pub(crate) async fn tenant_agents_now(&self) -> Result<Rc<Vec<Agent>>, ScimError> {
        let filter = AgentFilter::matching(IdentifierKind::TenantId, &self.settings.tenant_id);
        let mut agents = self
            .client
            .list_agents(&filter)
            .await
            .map_err(ScimError::from_api)?;
        // The API is asked for the tenant's agents only; what it answers is checked.
        agents.retain(|a| self.in_tenant(a));
        Ok(Rc::new(agents))
    }

    /// Whether `agent` belongs to this bridge's tenant.
    pub(crate) fn in_tenant(&self, agent: &Agent) -> bool {
        agent.tenant_id.as_deref() == Some(self.settings.tenant_id.as_str())
    }

    /// A write changes what the tenant's list shows.
    pub(crate) fn forget_tenant_list(&self) {
        *self.tenant_list.borrow_mut() = None;
    }
}

fn one_of(resources: Vec<serde_json::Value>, id: &str) -> Result<ScimResponse, ScimError> {
    resources
        .into_iter()
        .find(|r| r["id"].as_str().is_some_and(|r| r.eq_ignore_ascii_case(id)))
        .map(|r| ScimResponse::json(200, r))
        .ok_or_else(|| ScimError::not_found(format!("no {id}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scim_token_is_read_without_the_whitespace_around_it() {
        let env = [
            ("SMARTCOMM_CUSTOMER_ID", "1"),
            ("SMARTCOMM_TOKEN", "t"),
            (var::TENANT_ID, "tenant"),
            (var::TOKEN, "  s3cret-token\n"),
        ];
        let get = |name: &str| {
            env.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        };
        let (_, settings) = Settings::from_env(get).unwrap();
        assert_eq!(settings.token, "s3cret-token");
    }
}
