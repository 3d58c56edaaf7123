//! What the integration tests run against: moto's server for Secrets Manager, the Okta
//! simulator, and prism in front of the simulator checking every request and response
//! against Okta's published spec. Each is started once per test binary; each test gets its own
//! Okta org (selected by its token) and its own secret, so tests run in parallel.
//!
//! Child processes are started through `sh` with a pipe on stdin: when the test binary exits,
//! the pipe closes and the shell stops the child, so no server outlives the run.

#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_lambda_events::sqs::{SqsBatchResponse, SqsMessage};
use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sqs::types::QueueAttributeName;
use okta_role_sync::lambda;
use okta_role_sync::queues::{QueueUrls, Queues};
use okta_role_sync::ratelimit::OktaClock;
use okta_role_sync::secret::{SecretError, SecretSource, SecretsManager};
use okta_role_sync::{Config, Deps};
use secrecy::SecretString;
use serde_json::{Value, json};

pub const APP_ID: &str = "0oa1awsfed000000test";
pub const ACCOUNT: &str = "111122223333";

struct Services {
    moto: String,
    sim: String,
    prism: String,
    _children: Mutex<Vec<Child>>,
}

static SERVICES: OnceLock<Services> = OnceLock::new();
static NEXT: AtomicUsize = AtomicUsize::new(0);

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn tool(env_var: &str, local: &str, what: &str) -> PathBuf {
    if let Ok(path) = std::env::var(env_var) {
        return PathBuf::from(path);
    }
    let path = root().join(local);
    assert!(
        path.exists(),
        "{what} is not installed at {}: run scripts/setup (or set {env_var})",
        path.display()
    );
    path
}

/// Starts `program args` under a shell that stops it when our stdin pipe closes.
fn spawn_tied(program: &Path, args: &[&str], log: &Path) -> Child {
    let mut command = format!("exec 3<&0 0</dev/null; \"{}\"", program.display());
    for arg in args {
        command.push_str(&format!(" '{arg}'"));
    }
    command.push_str(&format!(
        " >'{log}' 2>&1 & pid=$!; cat <&3 >/dev/null; kill $pid 2>/dev/null; wait $pid",
        log = log.display()
    ));
    Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("failed to start {}: {e}", program.display()))
}

fn wait_for_port(port: u16, what: &str, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = std::fs::read_to_string(log).unwrap_or_default();
    panic!("{what} did not listen on port {port} within 60 s; its log:\n{output}");
}

fn services() -> &'static Services {
    SERVICES.get_or_init(|| {
        let logs = root().join("target").join("test-services");
        std::fs::create_dir_all(&logs).expect("a log folder under target/");
        let mut children = Vec::new();

        let moto_port = free_port();
        let moto_log = logs.join("moto.log");
        let moto = tool("MOTO_SERVER", ".venv/bin/moto_server", "moto_server");
        children.push(spawn_tied(
            &moto,
            &["-H", "127.0.0.1", "-p", &moto_port.to_string()],
            &moto_log,
        ));

        let sim_addr: SocketAddr = okta_sim::spawn_in_background(okta_sim::Simulator::new());

        let prism_port = free_port();
        let prism_log = logs.join("prism.log");
        let prism = tool("PRISM", "node_modules/.bin/prism", "prism");
        let spec = root().join("contract/okta-management-subset.json");
        let spec = spec.to_string_lossy().into_owned();
        let upstream = format!("http://{sim_addr}");
        children.push(spawn_tied(
            &prism,
            &[
                "proxy",
                "--errors",
                &spec,
                &upstream,
                "-h",
                "127.0.0.1",
                "-p",
                &prism_port.to_string(),
            ],
            &prism_log,
        ));
        wait_for_port(moto_port, "moto_server", &moto_log);
        wait_for_port(prism_port, "prism", &prism_log);

        Services {
            moto: format!("http://127.0.0.1:{moto_port}"),
            sim: upstream,
            prism: format!("http://127.0.0.1:{prism_port}"),
            _children: Mutex::new(children),
        }
    })
}

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The simulator's own address, without prism in front (for benchmarks).
pub fn sim_address() -> &'static str {
    &services().sim
}

/// A Secrets Manager client on moto.
pub fn secrets_client() -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(&moto_config())
}

/// The AWS settings of a client on moto, as `aws_config::load_from_env` would give them.
pub fn moto_config() -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(Credentials::new(
                "testing", "testing", None, None, "tests",
            )),
        )
        .endpoint_url(&services().moto)
        .sleep_impl(aws_smithy_async::rt::sleep::default_async_sleep().expect("tokio sleep"))
        .time_source(aws_smithy_async::time::SystemTimeSource::new())
        .build()
}

/// The role a sweep assumes in each test account.
pub const SWEEP_ROLE: &str = "okta-role-sync-sweeper";

/// The IAM source a sweep uses, assuming [`SWEEP_ROLE`] in every test account (moto keeps
/// each account's roles apart, so tests running side by side do not see each other's).
pub fn iam_source() -> okta_role_sync::iam::Iam {
    okta_role_sync::iam::Iam::new(moto_config(), Some(SWEEP_ROLE.to_owned()))
}

/// An AWS account of its own on moto, for one test's roles.
pub struct Account {
    pub id: String,
    iam: aws_sdk_iam::Client,
}

static NEXT_ACCOUNT: AtomicUsize = AtomicUsize::new(0);

impl Account {
    pub async fn new() -> Self {
        let n = NEXT_ACCOUNT.fetch_add(1, Ordering::Relaxed) as u64;
        let id = format!(
            "{:012}",
            200_000_000_000u64 + (std::process::id() as u64 % 100_000) * 10_000 + n
        );
        let assumed = aws_sdk_sts::Client::new(&moto_config())
            .assume_role()
            .role_arn(format!("arn:aws:iam::{id}:role/{SWEEP_ROLE}"))
            .role_session_name("test-setup")
            .send()
            .await
            .expect("moto assumes the role")
            .credentials
            .expect("credentials");
        let config = aws_sdk_iam::config::Builder::from(&moto_config())
            .credentials_provider(Credentials::new(
                assumed.access_key_id,
                assumed.secret_access_key,
                Some(assumed.session_token),
                None,
                "tests",
            ))
            .build();
        Self {
            id,
            iam: aws_sdk_iam::Client::from_conf(config),
        }
    }

    /// Creates a role that trusts the account's Okta SAML provider (or EC2, when not `saml`).
    pub async fn create_role(&self, name: &str, path: &str, saml: bool) {
        let principal = if saml {
            json!({"Federated": format!("arn:aws:iam::{}:saml-provider/Okta", self.id)})
        } else {
            json!({"Service": "ec2.amazonaws.com"})
        };
        let action = if saml {
            "sts:AssumeRoleWithSAML"
        } else {
            "sts:AssumeRole"
        };
        let policy = json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": principal, "Action": action}]
        });
        self.iam
            .create_role()
            .role_name(name)
            .path(path)
            .assume_role_policy_document(policy.to_string())
            .send()
            .await
            .expect("moto creates the role");
    }

    pub async fn delete_role(&self, name: &str) {
        self.iam
            .delete_role()
            .role_name(name)
            .send()
            .await
            .expect("moto deletes the role");
    }
}

/// An SQS client on moto.
pub fn sqs_client() -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(&moto_config())
}

/// The three queues of the deployed design, new on moto.
pub async fn new_queues() -> QueueUrls {
    let name = unique("okta-role-sync");
    QueueUrls {
        work: create_queue(format!("{name}-work.fifo"), true).await,
        delay: create_queue(format!("{name}-delay"), false).await,
        parked: create_queue(format!("{name}-parked.fifo"), true).await,
    }
}

async fn create_queue(name: String, fifo: bool) -> String {
    let mut request = sqs_client().create_queue().queue_name(name);
    if fifo {
        request = request
            .attributes(QueueAttributeName::FifoQueue, "true")
            .attributes(QueueAttributeName::ContentBasedDeduplication, "true");
    }
    request
        .send()
        .await
        .expect("moto creates the queue")
        .queue_url
        .expect("a queue url")
}

/// Receives up to ten messages from `queue` as Lambda's SQS event source would hand them over.
pub async fn receive(queue: &str) -> Vec<SqsMessage> {
    let output = sqs_client()
        .receive_message()
        .queue_url(queue)
        .max_number_of_messages(10)
        .visibility_timeout(30)
        .send()
        .await
        .expect("moto receives");
    output
        .messages
        .unwrap_or_default()
        .into_iter()
        .map(|m| {
            let mut message = SqsMessage::default();
            message.message_id = m.message_id;
            message.receipt_handle = m.receipt_handle;
            message.body = m.body;
            message.event_source = Some("aws:sqs".to_owned());
            message
        })
        .collect()
}

/// Deletes the messages the batch response did not report as failed, as Lambda does.
pub async fn settle(queue: &str, messages: &[SqsMessage], response: &SqsBatchResponse) {
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    for message in messages {
        if failed.contains(&message.message_id.as_deref().unwrap_or_default()) {
            continue;
        }
        sqs_client()
            .delete_message()
            .queue_url(queue)
            .receipt_handle(message.receipt_handle.clone().unwrap_or_default())
            .send()
            .await
            .expect("moto deletes");
    }
}

/// Sends a CreateRole event to the work queue as the EventBridge rule does.
pub async fn put_on_work_queue(queues: &QueueUrls, event: &Value) {
    sqs_client()
        .send_message()
        .queue_url(&queues.work)
        .message_body(event.to_string())
        .message_group_id(okta_role_sync::queues::MESSAGE_GROUP)
        .send()
        .await
        .expect("moto accepts the message");
}

/// Runs the work and delay queues through the function until both are empty, as the two
/// event source mappings would; returns how many batches ran.
pub async fn drain<S: SecretSource>(deps: &Deps<S>, queues: &QueueUrls) -> usize {
    let mut batches = 0;
    loop {
        let mut idle = true;
        for queue in [&queues.work, &queues.delay] {
            let messages = receive(queue).await;
            if messages.is_empty() {
                continue;
            }
            idle = false;
            batches += 1;
            let response = lambda::handle_batch(deps, messages.clone(), None).await;
            settle(queue, &messages, &response).await;
        }
        if idle {
            return batches;
        }
        assert!(batches < 1000, "the queues never drained");
    }
}

/// One batch from the work queue, as its event source mapping would run it.
pub async fn work_once<S: SecretSource>(deps: &Deps<S>, queues: &QueueUrls) {
    let messages = receive(&queues.work).await;
    if !messages.is_empty() {
        let response = lambda::handle_batch(deps, messages.clone(), None).await;
        settle(&queues.work, &messages, &response).await;
    }
}

/// How many messages wait on the delay queue, delayed or not.
pub async fn delayed_count(queues: &QueueUrls) -> usize {
    let output = sqs_client()
        .get_queue_attributes()
        .queue_url(&queues.delay)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
        .send()
        .await
        .expect("moto answers");
    output
        .attributes
        .unwrap_or_default()
        .values()
        .filter_map(|v| v.parse::<usize>().ok())
        .sum()
}

/// The bodies waiting on the delay queue, left there.
pub async fn peek_delay(queues: &QueueUrls) -> Vec<Value> {
    let output = sqs_client()
        .receive_message()
        .queue_url(&queues.delay)
        .max_number_of_messages(10)
        .visibility_timeout(0)
        .send()
        .await
        .expect("moto receives");
    output
        .messages
        .unwrap_or_default()
        .iter()
        .filter_map(|m| m.body.as_deref())
        .filter_map(|b| serde_json::from_str(b).ok())
        .collect()
}

/// Invokes the function as Lambda would with a single event, and returns its answer.
pub async fn invoke<S: SecretSource>(deps: &Deps<S>, payload: Value) -> Value {
    let event = lambda_runtime::LambdaEvent::new(payload, lambda_runtime::Context::default());
    match lambda::lambda(deps, event).await {
        Ok(answer) => answer,
        Err(diagnostic) => panic!(
            "invocation failed: {} {}",
            diagnostic.error_type, diagnostic.error_message
        ),
    }
}

/// Every message on a queue, removed.
pub async fn take_all(queue: &str) -> Vec<Value> {
    let mut bodies = Vec::new();
    loop {
        let messages = receive(queue).await;
        if messages.is_empty() {
            return bodies;
        }
        let response = SqsBatchResponse::default();
        settle(queue, &messages, &response).await;
        bodies.extend(
            messages
                .iter()
                .filter_map(|m| m.body.as_deref())
                .filter_map(|b| serde_json::from_str(b).ok()),
        );
    }
}

/// The real Secrets Manager adapter, counting its reads.
#[derive(Clone)]
pub struct CountingSecrets {
    inner: Arc<SecretsManager>,
    reads: Arc<AtomicUsize>,
}

impl CountingSecrets {
    pub fn reads(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
    }
}

impl SecretSource for CountingSecrets {
    async fn read(&self) -> Result<SecretString, SecretError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.inner.read().await
    }

    fn secret_id(&self) -> &str {
        self.inner.secret_id()
    }
}

/// One test's world: an Okta org in the simulator and a secret holding its token.
pub struct World {
    pub token: String,
    pub secret_id: String,
    pub secrets: CountingSecrets,
    http: reqwest::Client,
}

/// A seed with the test app; `groups` and `assignments` as given.
pub fn seed(roles: &[&str], groups: Value, assignments: Value) -> Value {
    json!({
        "apps": [{
            "id": APP_ID,
            "name": "amazon_aws",
            "label": "AWS Account Federation",
            "roles": roles,
            "settings": {"app": {
                "identityProviderArn": format!("arn:aws:iam::{ACCOUNT}:saml-provider/Okta"),
                "useGroupMapping": false
            }}
        }],
        "groups": groups,
        "assignments": assignments,
    })
}

impl World {
    /// A new org from `seed` (its token is set here) and a secret holding the token as a bare
    /// string.
    pub async fn new(seed: Value) -> Self {
        Self::with_secret(seed, str::to_owned).await
    }

    /// As [`World::new`], with the secret's text made from the org's token.
    pub async fn with_secret(mut seed: Value, secret_text: impl FnOnce(&str) -> String) -> Self {
        let services = services();
        let token = unique("test-token");
        // A second token of the same org stands for another client sharing its rate limits.
        seed["tokens"] = json!([token, format!("{token}-other")]);
        // Links in answers (pagination, `_links`) must name the address the client called:
        // prism, unless the seed says otherwise (a benchmark calling the simulator itself).
        if seed.get("baseUrl").is_none() {
            seed["baseUrl"] = json!(services.prism);
        }
        let http = reqwest::Client::new();
        let response = http
            .post(format!("{}/__sim/orgs", services.sim))
            .json(&seed)
            .send()
            .await
            .expect("simulator reachable");
        assert!(
            response.status().is_success(),
            "seeding the simulator failed: {}",
            response.text().await.unwrap_or_default()
        );
        let secret_id = unique("okta-role-sync/test");
        secrets_client()
            .create_secret()
            .name(&secret_id)
            .secret_string(secret_text(&token))
            .send()
            .await
            .expect("moto creates the secret");
        let secrets = CountingSecrets {
            inner: Arc::new(SecretsManager::new(secrets_client(), &secret_id)),
            reads: Arc::new(AtomicUsize::new(0)),
        };
        Self {
            token,
            secret_id,
            secrets,
            http,
        }
    }

    /// A new org from `seed` with a service app `client_id` that has the `registered` public
    /// keys and the `granted` scopes, and a secret holding `secret` (see
    /// [`service_app_secret`]).
    pub async fn with_service_app(
        mut seed: Value,
        client_id: &str,
        registered: &[&TestKey],
        granted: &[&str],
        secret: Value,
    ) -> Self {
        seed["serviceApps"] = json!([{
            "clientId": client_id,
            "keys": registered.iter().map(|k| k.public_jwk.clone()).collect::<Vec<_>>(),
            "scopes": granted,
        }]);
        Self::with_secret(seed, |_| secret.to_string()).await
    }

    /// Every request to the org's token endpoint: `[{clientId, status, error}]`.
    pub async fn token_requests(&self) -> Vec<Value> {
        match self.sim_get("/__sim/oauth/token-requests").await {
            Value::Array(items) => items,
            other => panic!("unexpected token request log {other}"),
        }
    }

    /// Every access token the org issued expires now.
    pub async fn expire_access_tokens(&self) {
        let response = self
            .http
            .post(format!("{}/__sim/oauth/expire-tokens", services().sim))
            .header("Authorization", format!("SSWS {}", self.token))
            .send()
            .await
            .expect("simulator reachable");
        assert!(response.status().is_success());
    }

    /// The handler's dependencies, configured by `vars` on top of this world's defaults.
    pub fn deps(&self, vars: &[(&str, &str)]) -> Deps<CountingSecrets> {
        let mut env: Vec<(String, String)> = vec![
            ("OKTA_ORG_URL".into(), services().prism.clone()),
            ("OKTA_APP_ID".into(), APP_ID.into()),
            ("OKTA_SECRET_ID".into(), self.secret_id.clone()),
        ];
        env.extend(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        let config = Config::from_lookup(|name| {
            env.iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        })
        .expect("valid test configuration");
        Deps::new(config, self.secrets.clone()).expect("okta client builds")
    }

    /// As [`World::deps`], for an org whose clock runs at `clock`'s pace.
    pub fn deps_scaled(&self, clock: OktaClock, vars: &[(&str, &str)]) -> Deps<CountingSecrets> {
        let config = self.deps(vars).config;
        Deps::with_clock(config, self.secrets.clone(), clock).expect("okta client builds")
    }

    /// The org's whole state in the seed format.
    pub async fn state(&self) -> Value {
        self.sim_get("/__sim/state").await
    }

    /// As [`World::deps`], with the queues of the deployed design.
    pub fn deps_with_queues(
        &self,
        queues: &QueueUrls,
        vars: &[(&str, &str)],
    ) -> Deps<CountingSecrets> {
        self.deps(vars)
            .with_queues(Queues::new(sqs_client(), queues.clone()))
    }

    /// The environment the operator command needs to reach this world: Okta through prism,
    /// AWS through moto, and `vars` on top.
    pub fn command_env(&self, vars: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = vec![
            ("OKTA_ORG_URL".into(), services().prism.clone()),
            ("OKTA_APP_ID".into(), APP_ID.into()),
            ("OKTA_SECRET_ID".into(), self.secret_id.clone()),
            ("AWS_ENDPOINT_URL".into(), services().moto.clone()),
            ("AWS_ACCESS_KEY_ID".into(), "testing".into()),
            ("AWS_SECRET_ACCESS_KEY".into(), "testing".into()),
            ("AWS_REGION".into(), "us-east-1".into()),
            ("SWEEP_ROLE_NAME".into(), SWEEP_ROLE.into()),
        ];
        env.extend(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        env
    }

    /// The simulator's own address, without prism in front (for benchmarks).
    pub fn sim_url(&self) -> &'static str {
        &services().sim
    }

    pub async fn rotate_secret(&self, text: &str) {
        secrets_client()
            .put_secret_value()
            .secret_id(&self.secret_id)
            .secret_string(text)
            .send()
            .await
            .expect("moto stores the new secret value");
    }

    async fn sim_get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", services().sim))
            .header("Authorization", format!("SSWS {}", self.token))
            .send()
            .await
            .expect("simulator reachable")
            .json()
            .await
            .expect("simulator answers JSON")
    }

    /// Every Okta API request the org received: `[{method, path, query, status, bucket}]`.
    pub async fn requests(&self) -> Vec<Value> {
        match self.sim_get("/__sim/requests").await {
            Value::Array(items) => items,
            other => panic!("unexpected request log {other}"),
        }
    }

    pub async fn writes(&self) -> usize {
        self.requests()
            .await
            .iter()
            .filter(|r| r["method"] != "GET")
            .count()
    }

    /// The stored assignment of `group_id` to the test app, if any.
    pub async fn assignment(&self, group_id: &str) -> Option<Value> {
        self.assignment_in(APP_ID, group_id).await
    }

    /// The stored assignment of `group_id` to `app_id`, if any.
    pub async fn assignment_in(&self, app_id: &str, group_id: &str) -> Option<Value> {
        let state = self.sim_get("/__sim/state").await;
        state["assignments"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|a| a["appId"] == app_id && a["groupId"] == group_id)
            .cloned()
    }

    pub async fn saml_roles(&self, group_id: &str) -> Vec<String> {
        self.saml_roles_in(APP_ID, group_id).await
    }

    /// The `samlRoles` of `group_id`'s assignment to `app_id` (empty when unassigned).
    pub async fn saml_roles_in(&self, app_id: &str, group_id: &str) -> Vec<String> {
        self.assignment_in(app_id, group_id)
            .await
            .and_then(|a| serde_json::from_value(a["profile"]["samlRoles"].clone()).ok())
            .unwrap_or_default()
    }

    /// Adds faults to the org's schedule: `[{method, path, status, body, ..}]`.
    pub async fn add_faults(&self, faults: Value) {
        let response = self
            .http
            .post(format!("{}/__sim/faults", services().sim))
            .header("Authorization", format!("SSWS {}", self.token))
            .json(&json!({ "faults": faults }))
            .send()
            .await
            .expect("simulator reachable");
        assert!(
            response.status().is_success(),
            "{}",
            response.text().await.unwrap_or_default()
        );
    }

    /// The faults of the schedule not yet used up.
    pub async fn pending_faults(&self) -> Vec<Value> {
        match self.sim_get("/__sim/faults").await["faults"].take() {
            Value::Array(items) => items,
            other => panic!("unexpected fault list {other}"),
        }
    }

    /// Spends the org's app bucket with the org's other token, until Okta answers 429.
    pub async fn spend_app_bucket_elsewhere(&self) {
        for _ in 0..10_000 {
            let response = self
                .http
                .get(format!("{}/api/v1/apps/{APP_ID}/groups", services().sim))
                .header("Authorization", format!("SSWS {}-other", self.token))
                .send()
                .await
                .expect("simulator reachable");
            if response.status() == reqwest::StatusCode::TOO_MANY_REQUESTS {
                return;
            }
        }
        panic!("the app bucket never ran out");
    }

    /// Creates a group, as an admin would in Okta.
    pub async fn create_group(&self, group: &Value) {
        let response = self
            .http
            .post(format!("{}/__sim/groups", services().sim))
            .header("Authorization", format!("SSWS {}", self.token))
            .json(group)
            .send()
            .await
            .expect("simulator reachable");
        assert!(
            response.status().is_success(),
            "{}",
            response.text().await.unwrap_or_default()
        );
    }

    /// Imports a role into the app, as an admin's "Refresh Application Data" would.
    pub async fn import_role(&self, role: &str) {
        let response = self
            .http
            .post(format!("{}/__sim/apps/{APP_ID}/roles", services().sim))
            .header("Authorization", format!("SSWS {}", self.token))
            .json(&json!({"role": role}))
            .send()
            .await
            .expect("simulator reachable");
        assert!(response.status().is_success());
    }
}

/// A throwaway key pair made at test time for one test's service app: the private key as
/// PKCS#8 PEM (what the secret holds) and the public key as a JWK with its `kid` (what Okta
/// registers on the service app).
pub struct TestKey {
    pub kid: String,
    pub private_pem: String,
    pub public_jwk: Value,
}

impl TestKey {
    /// An ECDSA P-256 key (ES256).
    pub fn ec(kid: &str) -> Self {
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .expect("a P-256 key");
        Self::from_pkcs8(kid, pkcs8.as_ref(), jsonwebtoken::Algorithm::ES256)
    }

    /// An RSA 2048 key (RS256).
    pub fn rsa(kid: &str) -> Self {
        use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
        let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
            .expect("an RSA key");
        let pkcs8: Pkcs8V1Der = pair.as_der().expect("PKCS#8");
        Self::from_pkcs8(kid, pkcs8.as_ref(), jsonwebtoken::Algorithm::RS256)
    }

    fn from_pkcs8(kid: &str, der: &[u8], algorithm: jsonwebtoken::Algorithm) -> Self {
        use base64::Engine;
        let body = base64::engine::general_purpose::STANDARD.encode(der);
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
            .collect();
        let private_pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            lines.join("\n")
        );
        let encoding = match algorithm {
            jsonwebtoken::Algorithm::RS256 => {
                jsonwebtoken::EncodingKey::from_rsa_pem(private_pem.as_bytes())
            }
            _ => jsonwebtoken::EncodingKey::from_ec_pem(private_pem.as_bytes()),
        }
        .expect("the key just made");
        let mut jwk =
            jsonwebtoken::jwk::Jwk::from_encoding_key(&encoding, algorithm).expect("public JWK");
        jwk.common.key_id = Some(kid.to_owned());
        Self {
            kid: kid.to_owned(),
            private_pem,
            public_jwk: serde_json::to_value(jwk).expect("JWK as JSON"),
        }
    }
}

/// The org's domain as a managed-rotation secret names it: prism's host and port.
pub fn okta_domain() -> String {
    services().prism.trim_start_matches("http://").to_owned()
}

/// A client id no other test uses.
pub fn new_client_id() -> String {
    unique("0oatest").replace('-', "")
}

/// The secret of a service app in Secrets Manager's managed-rotation format for Okta.
pub fn service_app_secret(client_id: &str, key: &TestKey, scopes: Option<&str>) -> Value {
    let mut secret = json!({
        "domain": okta_domain(),
        "clientId": client_id,
        "privateKey": key.private_pem,
        "keyId": key.kid,
    });
    if let Some(scopes) = scopes {
        secret["scopes"] = json!(scopes);
    }
    secret
}

/// A fixture from `events/`, the same files `sam local invoke -e` and `cargo lambda invoke`
/// use.
pub fn event(name: &str) -> Value {
    let path = root().join("events").join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("failed to read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("event fixtures are JSON")
}

/// An AWS Account Federation app for a seed: its id, the accounts its identity provider ARN
/// names, and the role labels it has imported.
pub fn aws_app(id: &str, accounts: &[&str], roles: &[&str]) -> Value {
    let arns: Vec<String> = accounts
        .iter()
        .map(|a| format!("arn:aws:iam::{a}:saml-provider/Okta"))
        .collect();
    json!({
        "id": id,
        "name": "amazon_aws",
        "label": format!("AWS {}", accounts.join(" ")),
        "roles": roles,
        "settings": {"app": {"identityProviderArn": arns.join(","), "useGroupMapping": false}},
    })
}

/// A CreateRole event of `role` in `account`, forwarded to a central bus, with `tags`.
pub fn create_role_in(account: &str, role: &str, tags: Value) -> Value {
    let mut event = event("create-role.json");
    event["account"] = json!(account);
    event["detail"]["recipientAccountId"] = json!(account);
    event["detail"]["userIdentity"]["accountId"] = json!(account);
    event["detail"]["requestParameters"]["roleName"] = json!(role);
    event["detail"]["requestParameters"]["tags"] = tags;
    let trust = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": format!("arn:aws:iam::{account}:saml-provider/Okta")},
            "Action": "sts:AssumeRoleWithSAML",
        }]
    });
    event["detail"]["requestParameters"]["assumeRolePolicyDocument"] = json!(trust.to_string());
    event["detail"]["responseElements"] = Value::Null;
    event
}

/// A fixture from `tests/fixtures/`.
pub fn fixture(path: &str) -> Value {
    let path = root().join("tests/fixtures").join(path);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("failed to read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("fixtures are JSON")
}

/// The names of the files in a fixtures folder.
pub fn fixture_names(folder: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("tests/fixtures").join(folder))
        .expect("fixture folder exists")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    names
}

/// A whole-number setting of a benchmark from the environment, or its default.
pub fn bench_var(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The process's peak resident memory, from `/proc/self/status` (0 where there is none).
pub fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}
