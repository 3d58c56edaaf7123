//! The IAM roles of the accounts a sweep covers: listed page by page with the function's own
//! credentials in its own account, and through a role assumed in each other account.
//!
//! `ListRoles` returns each role's trust policy (percent-encoded JSON) but not its tags, so
//! tags are read role by role, and only when a naming rule needs them.

use std::future::Future;

use aws_config::SdkConfig;
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};

use crate::event::{self, RoleCreated, Tag, TrustSummary};
use crate::role::{AccountId, RoleName, RolePath};

/// A role as the sweep sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct IamRole {
    pub account: AccountId,
    pub name: RoleName,
    pub path: RolePath,
    pub trust: TrustSummary,
    pub saml_providers: Vec<String>,
    pub tags: Vec<Tag>,
}

impl IamRole {
    /// The role as a `CreateRole` event would have described it, for the same rules.
    pub fn as_created(&self) -> RoleCreated {
        RoleCreated {
            event_id: None,
            account: self.account.clone(),
            role: self.name.clone(),
            path: self.path.clone(),
            arn: None,
            trust: self.trust,
            saml_providers: self.saml_providers.clone(),
            tags: self.tags.clone(),
        }
    }
}

/// Why IAM could not be read.
#[derive(Debug, thiserror::Error)]
#[error("failed to {operation} ({code}){}", hint(.foreign))]
pub struct IamError {
    /// What was being done, naming the account.
    pub operation: String,
    pub code: String,
    /// Whether the account was another than the credentials' own (reached by assuming a role).
    pub foreign: bool,
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

fn hint(foreign: &bool) -> &'static str {
    if *foreign {
        ": another account is read through the role SWEEP_ROLE_NAME, which forwarder.yaml \
         creates there (SweepRoleName); check it exists and trusts this account"
    } else {
        ""
    }
}

impl IamError {
    fn new<E, R>(operation: String, foreign: bool, err: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        Self {
            operation,
            code: crate::aws::error_code(&err),
            foreign,
            source: Some(Box::new(err)),
        }
    }

    /// Throttling and lost connections pass; a refused role or a missing account do not. A
    /// failure to reach another account counts as refused: the SDK reports a role it may not
    /// assume as a failure to dispatch, which waiting does not mend.
    pub fn retryable(&self) -> bool {
        match self.code.as_str() {
            "Throttling" | "ThrottlingException" | "ServiceFailure" | "Timeout" => true,
            "DispatchFailure" => !self.foreign,
            _ => false,
        }
    }
}

/// Where a sweep gets the roles of an account.
pub trait RoleSource: Send + Sync {
    /// The account whose credentials the source holds.
    fn own_account(&self) -> impl Future<Output = Result<AccountId, IamError>> + Send;

    fn roles(
        &self,
        account: &AccountId,
        with_tags: bool,
    ) -> impl Future<Output = Result<Vec<IamRole>, IamError>> + Send;

    /// Whether the account has a role of this name now.
    fn exists(
        &self,
        account: &AccountId,
        role: &RoleName,
    ) -> impl Future<Output = Result<bool, IamError>> + Send;
}

/// The IAM adapter.
pub struct Iam {
    config: SdkConfig,
    own_account: tokio::sync::OnceCell<AccountId>,
    /// The role to assume in accounts other than the function's own (`SWEEP_ROLE_NAME`).
    role_name: Option<String>,
}

impl Iam {
    pub fn new(config: SdkConfig, role_name: Option<String>) -> Self {
        Self {
            config,
            own_account: tokio::sync::OnceCell::new(),
            role_name,
        }
    }

    /// A client for the account, and whether it is another than the credentials' own.
    async fn client(&self, account: &AccountId) -> Result<(aws_sdk_iam::Client, bool), IamError> {
        let foreign = self.own_account().await? != *account;
        Ok((
            match (&self.role_name, foreign) {
                (Some(role_name), true) => {
                    let arn = format!("arn:aws:iam::{account}:role/{role_name}");
                    let provider = aws_config::sts::AssumeRoleProvider::builder(arn)
                        .session_name("okta-role-sync-sweep")
                        .configure(&self.config)
                        .build()
                        .await;
                    let config = aws_sdk_iam::config::Builder::from(&self.config)
                        .credentials_provider(provider)
                        .build();
                    aws_sdk_iam::Client::from_conf(config)
                }
                (None, true) => {
                    // The credentials' own roles are not another account's: never read them so.
                    return Err(IamError {
                        operation: format!("read the iam roles of account {account}"),
                        code: "NoSweepRole".to_owned(),
                        foreign: true,
                        source: None,
                    });
                }
                (_, false) => aws_sdk_iam::Client::new(&self.config),
            },
            foreign,
        ))
    }
}

impl RoleSource for Iam {
    async fn own_account(&self) -> Result<AccountId, IamError> {
        self.own_account
            .get_or_try_init(|| async {
                let identity = aws_sdk_sts::Client::new(&self.config)
                    .get_caller_identity()
                    .send()
                    .await
                    .map_err(|e| {
                        IamError::new(
                            "tell the credentials' own account (sts)".to_owned(),
                            false,
                            e,
                        )
                    })?;
                let account = identity.account.unwrap_or_default();
                AccountId::parse(&account).map_err(|reason| IamError {
                    operation: "tell the credentials' own account (sts)".to_owned(),
                    code: "UnreadableAccount".to_owned(),
                    foreign: false,
                    source: Some(reason.into()),
                })
            })
            .await
            .cloned()
    }

    async fn exists(&self, account: &AccountId, role: &RoleName) -> Result<bool, IamError> {
        let (client, foreign) = self.client(account).await?;
        match client.get_role().role_name(role.as_str()).send().await {
            Ok(_) => Ok(true),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_no_such_entity_exception()) =>
            {
                Ok(false)
            }
            Err(err) => Err(IamError::new(
                format!("read role {role} of account {account}"),
                foreign,
                err,
            )),
        }
    }

    async fn roles(&self, account: &AccountId, with_tags: bool) -> Result<Vec<IamRole>, IamError> {
        let (client, foreign) = self.client(account).await?;
        let failed = |e| {
            IamError::new(
                format!("list the iam roles of account {account}"),
                foreign,
                e,
            )
        };
        let mut roles = Vec::new();
        let mut pages = client.list_roles().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(failed)?;
            for role in page.roles {
                let Ok(name) = RoleName::parse(&role.role_name) else {
                    tracing::warn!(account = %account, role = role.role_name, "unreadable role name");
                    continue;
                };
                let path = RolePath::parse(&role.path).unwrap_or_else(|_| RolePath::root());
                let document = role
                    .assume_role_policy_document
                    .map(serde_json::Value::String);
                let (trust, saml_providers) = event::read_trust(document.as_ref());
                roles.push(IamRole {
                    account: account.clone(),
                    name,
                    path,
                    trust,
                    saml_providers,
                    tags: Vec::new(),
                });
            }
        }
        if with_tags {
            for role in &mut roles {
                let mut pages = client
                    .list_role_tags()
                    .role_name(role.name.as_str())
                    .into_paginator()
                    .send();
                while let Some(page) = pages.next().await {
                    let page = page.map_err(|e| {
                        IamError::new(
                            format!("list the tags of role {} of account {account}", role.name),
                            foreign,
                            e,
                        )
                    })?;
                    role.tags.extend(page.tags.into_iter().map(|t| Tag {
                        key: t.key,
                        value: t.value,
                    }));
                }
            }
        }
        Ok(roles)
    }
}
