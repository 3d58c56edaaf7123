//! okta-role-sync: when an IAM role is created, add it to the `samlRoles` of the matching Okta
//! group in the AWS Account Federation app, keeping everything that was there.

pub mod apps;
pub mod assign;
mod aws;
pub mod cli;
pub mod config;
mod edit;
pub mod error;
pub mod event;
pub mod handler;
pub mod iam;
pub mod labels;
pub mod lambda;
pub mod locks;
pub mod metrics;
pub mod naming;
pub mod oauth;
pub mod okta;
pub mod queues;
pub mod ratelimit;
pub mod reconcile;
pub mod role;
pub mod rules;
pub mod secret;
mod session;
pub mod sweep;
pub mod waits;

pub use config::Config;
pub use error::Error;
pub use handler::{Deps, Outcome, OutcomeKind, handle, handle_until};
