//! The function end to end: real Secrets Manager and SQS calls to moto's server, real Okta
//! calls to the simulator through prism checking them against Okta's published spec.

#[path = "../helpers/mod.rs"]
mod helpers;

mod accounts;
mod assign;
mod concurrency;
mod faults;
mod oauth;
mod removal;
mod sweep;
mod waits;
