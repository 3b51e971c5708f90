//! `/Groups`: the shared inboxes of the inbox map. Members are the tenant's agents that the
//! inbox lists, read for each request that shows or changes them (one list request, none
//! with `excludedAttributes=members`): a change is never computed from an older read, which
//! another instance's write may have made stale. Members change by inbox assignments, and
//! only agents of the bridge's tenant are sent. The API cannot delete an inbox: a DELETE
//! removes every member, and the group still reads back, empty, since its number still holds
//! the inbox.

use crate::bridge::Bridge;
use crate::discovery::{self, MAX_RESULTS};
use crate::error::ScimError;
use crate::exchange::{ScimRequest, ScimResponse};
use crate::group::{self, Group, MemberChanges};
use crate::patch::{self, Change, Op};
use serde_json::Value;
use smartcomm::batch::Outcome;
use smartcomm::model::*;
use smartcomm::transport::Transport;
use std::collections::BTreeSet;
use std::rc::Rc;

/// The tenant's agents as read for this request, and the ids of the group's members among
/// them.
struct Members {
    tenant: Rc<Vec<Agent>>,
    ids: BTreeSet<String>,
}

impl Members {
    fn of(group: &Group, tenant: Rc<Vec<Agent>>) -> Members {
        let ids = group::members(&tenant, &group.number)
            .iter()
            .filter_map(|a| a.user_object_id.clone())
            .collect();
        Members { tenant, ids }
    }

    /// The members once `changes` are made.
    fn after(mut self, changes: &MemberChanges) -> Members {
        self.ids.retain(|id| !changes.remove.contains(id));
        self.ids.extend(changes.add.iter().cloned());
        self
    }

    fn agents(&self) -> Vec<&Agent> {
        self.tenant
            .iter()
            .filter(|a| {
                a.user_object_id
                    .as_ref()
                    .is_some_and(|id| self.ids.contains(id))
            })
            .collect()
    }

    /// Ids the tenant does not hold: none may be sent.
    fn strangers<'a>(&self, ids: &'a BTreeSet<String>) -> Vec<&'a str> {
        ids.iter()
            .filter(|id| {
                !self
                    .tenant
                    .iter()
                    .any(|a| a.user_object_id.as_ref() == Some(id))
            })
            .map(String::as_str)
            .collect()
    }
}

impl<T: Transport> Bridge<T> {
    pub(crate) async fn groups(
        &self,
        method: &str,
        rest: &[&str],
        request: &ScimRequest,
        base: &str,
    ) -> Result<ScimResponse, ScimError> {
        match (method, rest) {
            ("GET", []) => self.list_groups(request, base).await,
            ("POST", []) => self.create_group(request, base).await,
            ("GET", [id]) => {
                let group = self.group(id)?;
                let shown = self.shown_groups(vec![group], request, base).await?;
                Ok(ScimResponse::json(
                    200,
                    shown.into_iter().next().unwrap_or_default(),
                ))
            }
            ("PATCH", [id]) => {
                let group = self.group(id)?;
                let operations = patch::read(&request.json()?)?;
                self.change_members(&group, &operations).await?;
                Ok(ScimResponse::empty(204))
            }
            ("PUT", [id]) => self.replace_group(id, request, base).await,
            ("DELETE", [id]) => {
                let group = self.group(id)?;
                self.change_members(&group, &[members_change(Op::Remove, None)])
                    .await?;
                Ok(ScimResponse::empty(204))
            }
            (_, [] | [_]) => Err(ScimError::method_not_allowed(format!(
                "{method} is not supported here"
            ))),
            _ => Err(ScimError::not_found("no such group endpoint")),
        }
    }

    fn group(&self, id: &str) -> Result<Group, ScimError> {
        self.settings
            .inboxes
            .by_id(id)
            .ok_or_else(|| ScimError::not_found(format!("no group with id {id}")))
    }

    /// The groups as resources, with their members as they are now unless
    /// `excludedAttributes` leaves them out.
    async fn shown_groups(
        &self,
        groups: Vec<Group>,
        request: &ScimRequest,
        base: &str,
    ) -> Result<Vec<Value>, ScimError> {
        let projection = request.projection();
        let tenant = match projection.excludes("members") || groups.is_empty() {
            true => None,
            false => Some(self.tenant_agents_now().await?),
        };
        Ok(groups
            .iter()
            .map(|g| {
                let members = tenant.as_ref().map(|t| group::members(t, &g.number));
                projection.apply(group::resource(g, members.as_deref(), base))
            })
            .collect())
    }

    fn shown_group(group: &Group, members: &Members, request: &ScimRequest, base: &str) -> Value {
        let agents = members.agents();
        request
            .projection()
            .apply(group::resource(group, Some(&agents), base))
    }

    async fn list_groups(
        &self,
        request: &ScimRequest,
        base: &str,
    ) -> Result<ScimResponse, ScimError> {
        let (start, count) = request.page(MAX_RESULTS)?;
        let mut groups: Vec<Group> = self.settings.inboxes.groups().collect();
        for condition in request.filter()?.unwrap_or_default() {
            let wanted = condition.value.as_text().unwrap_or_default();
            let path = &condition.path;
            match (path.name.as_str(), path.sub.as_deref()) {
                ("displayname", None) => groups.retain(|g| g.name.eq_ignore_ascii_case(&wanted)),
                ("id" | "externalid", None) => groups.retain(|g| g.id() == wanted),
                _ => {
                    return Err(ScimError::invalid_filter(format!(
                        "filtering groups by {path} is not supported: displayName and id are"
                    )));
                }
            }
        }
        let total = groups.len();
        let page: Vec<Group> = groups.into_iter().skip(start - 1).take(count).collect();
        let shown = self.shown_groups(page, request, base).await?;
        Ok(ScimResponse::json(
            200,
            discovery::list(shown, total, start),
        ))
    }

    /// A group of the inbox map, with the members it names added.
    async fn create_group(
        &self,
        request: &ScimRequest,
        base: &str,
    ) -> Result<ScimResponse, ScimError> {
        let body = group::object(request.json()?)?;
        let name = patch::field(&body, "displayName")
            .and_then(Value::as_str)
            .ok_or_else(|| ScimError::invalid_value("displayName is required"))?;
        let group = self.settings.inboxes.mapped(name)?;
        let members = patch::field(&body, "members")
            .filter(|value| !value.is_null())
            .cloned();
        let add = members_change(Op::Add, Some(members.unwrap_or(Value::Array(vec![]))));
        let members = self.change_members(&group, &[add]).await?;
        let location = format!("{base}/Groups/{}", group.id());
        Ok(ScimResponse::created(
            Self::shown_group(&group, &members, request, base),
            location,
        ))
    }

    async fn replace_group(
        &self,
        id: &str,
        request: &ScimRequest,
        base: &str,
    ) -> Result<ScimResponse, ScimError> {
        let group = self.group(id)?;
        let body = group::object(request.json()?)?;
        if let Some(name) = patch::field(&body, "displayName")
            && !group::names(&group, Some(name))
        {
            return Err(group::renamed());
        }
        let members = patch::field(&body, "members").cloned();
        let replace = members_change(Op::Replace, Some(members.unwrap_or(Value::Array(vec![]))));
        let members = self.change_members(&group, &[replace]).await?;
        Ok(ScimResponse::json(
            200,
            Self::shown_group(&group, &members, request, base),
        ))
    }

    /// Applies a request's member operations, in order, to the members as they are now (read
    /// for this request), and sends the difference as assignments. Bad input is refused before
    /// anything is read; an id the tenant does not hold, before anything is sent.
    async fn change_members(
        &self,
        group: &Group,
        operations: &[Change],
    ) -> Result<Members, ScimError> {
        group::member_changes(group, operations, &BTreeSet::new())?;
        if !group::touches_members(operations) {
            return Ok(Members {
                tenant: Rc::default(),
                ids: BTreeSet::new(),
            });
        }
        let members = Members::of(group, self.tenant_agents_now().await?);
        let changes = group::member_changes(group, operations, &members.ids)?;
        let strangers = members.strangers(&changes.add);
        if !strangers.is_empty() {
            return Err(ScimError::invalid_value(format!(
                "members: not users of this bridge's tenant ({}): {}; nothing was changed",
                self.settings.tenant_id,
                strangers.join(", ")
            )));
        }
        let add: Vec<String> = changes.add.iter().cloned().collect();
        let remove: Vec<String> = changes.remove.iter().cloned().collect();
        self.add_members(group, &add).await?;
        self.assign(group, &remove, Operation::Remove).await?;
        Ok(members.after(&changes))
    }

    /// Adds agents to the group's inbox; an inbox the API does not know yet is created with
    /// them (the API makes no inbox without users).
    async fn add_members(&self, group: &Group, ids: &[String]) -> Result<(), ScimError> {
        match self.assign(group, ids, Operation::Add).await {
            Err(e) if e.detail.to_ascii_lowercase().contains("inbox not found") => {
                let inbox = NewInbox {
                    name: group.name.clone(),
                    inbox_type: InboxType::Shared,
                    phone_number: group.number.clone(),
                    owner: None,
                    users: Selector {
                        identifier: IdentifierKind::UserObjectId,
                        values: ids.to_vec(),
                    },
                };
                let outcomes = self
                    .client
                    .create_inboxes(&[inbox], None)
                    .await
                    .map_err(ScimError::from_api)?;
                self.forget_tenant_list();
                settled(outcomes)
            }
            other => other,
        }
    }

    async fn assign(
        &self,
        group: &Group,
        ids: &[String],
        operation: Operation,
    ) -> Result<(), ScimError> {
        if ids.is_empty() {
            return Ok(());
        }
        let assignment = Assignment {
            inbox: InboxRef {
                inbox_type: InboxType::Shared,
                identifier: IdentifierKind::PhoneNumber,
                value: group.number.clone(),
            },
            agents: Selector {
                identifier: IdentifierKind::UserObjectId,
                values: ids.to_vec(),
            },
            operation,
        };
        let outcomes = self
            .client
            .assign_inboxes(&[assignment])
            .await
            .map_err(ScimError::from_api)?;
        self.forget_tenant_list();
        settled(outcomes)
    }
}

/// A change of the whole `members` attribute.
fn members_change(op: Op, value: Option<Value>) -> Change {
    Change {
        op,
        path: crate::filter::parse_path("members").expect("a valid path"),
        value,
    }
}

/// The one outcome of a one-item batch, as the SCIM answer's error if it failed.
fn settled(outcomes: Vec<Outcome<Option<String>>>) -> Result<(), ScimError> {
    match outcomes.into_iter().next() {
        Some(Outcome::Succeeded(_)) => Ok(()),
        Some(Outcome::Rejected(messages)) => Err(ScimError::invalid_value(format!(
            "the SmartCommunicator API refused it: {}",
            messages.join("; ")
        ))),
        Some(Outcome::Failed(e)) => Err(ScimError::from_api(e)),
        Some(Outcome::NotAttempted) | None => {
            Err(ScimError::internal("the assignment was not attempted"))
        }
    }
}
