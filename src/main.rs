//! The entry point. Run by Lambda (no arguments): logging, configuration and clients once per
//! container, then the runtime loop. Run with `plan` or `apply`: the operator command.

use std::process::ExitCode;

use lambda_runtime::{LambdaEvent, service_fn};
use okta_role_sync::iam::Iam;
use okta_role_sync::queues::Queues;
use okta_role_sync::secret::SecretsManager;
use okta_role_sync::{Config, Deps, cli, lambda};
use serde_json::Value;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() > 1 {
        return cli::main(args).await;
    }
    match run_lambda().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}

async fn run_lambda() -> Result<(), lambda_runtime::Error> {
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
    let iam = Iam::new(aws.clone(), config.sweep_role_name.clone());
    let mut deps = Deps::new(config, secrets)?.with_iam(iam);
    if let Some(urls) = queue_urls {
        deps = deps.with_queues(Queues::new(aws_sdk_sqs::Client::new(&aws), urls));
    }
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        lambda::lambda(&deps, event)
    }))
    .await
    .inspect_err(|err| tracing::error!(error = %err, "lambda runtime stopped"))
}
