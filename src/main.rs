//! The Lambda entry point: logging, configuration and clients once per container, then the
//! runtime loop.

use lambda_runtime::{LambdaEvent, service_fn};
use okta_role_sync::queues::Queues;
use okta_role_sync::secret::SecretsManager;
use okta_role_sync::{Config, Deps, lambda};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = Config::from_env().inspect_err(|err| {
        tracing::error!(error = %err, "invalid configuration");
    })?;
    let aws = aws_config::load_from_env().await;
    let secrets = SecretsManager::new(
        aws_sdk_secretsmanager::Client::new(&aws),
        config.okta_secret_id.clone(),
    );
    let queue_urls = config.queues.clone();
    let mut deps = Deps::new(config, secrets)?;
    if let Some(urls) = queue_urls {
        deps = deps.with_queues(Queues::new(aws_sdk_sqs::Client::new(&aws), urls));
    }
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        lambda::lambda(&deps, event)
    }))
    .await
}
