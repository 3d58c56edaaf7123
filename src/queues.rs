//! The SQS queues of the deployed design: the FIFO work queue every event is handled from (one
//! message group, so writes to Okta never run side by side), the delay queue waiting events
//! sit on, and the parked queue an operator reads.

use std::time::Duration;

use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};

/// The one FIFO message group: every event is handled in turn.
pub const MESSAGE_GROUP: &str = "okta-role-sync";

#[derive(Debug, Clone)]
pub struct QueueUrls {
    pub work: String,
    pub delay: String,
    pub parked: String,
}

/// A failed send to a queue. Always worth retrying: the message is still where it came from.
#[derive(Debug, thiserror::Error)]
#[error("failed to send a message to {queue} ({code})")]
pub struct QueueError {
    pub queue: String,
    pub code: String,
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

#[derive(Debug, Clone)]
pub struct Queues {
    client: aws_sdk_sqs::Client,
    urls: QueueUrls,
}

impl Queues {
    pub fn new(client: aws_sdk_sqs::Client, urls: QueueUrls) -> Self {
        Self { client, urls }
    }

    pub fn urls(&self) -> &QueueUrls {
        &self.urls
    }

    /// Puts a waiting event on the delay queue, to come back after `delay`.
    pub async fn delay(&self, body: String, delay: Duration) -> Result<(), QueueError> {
        let seconds = i32::try_from(delay.as_secs().min(900)).unwrap_or(900);
        self.client
            .send_message()
            .queue_url(&self.urls.delay)
            .message_body(body)
            .delay_seconds(seconds)
            .send()
            .await
            .map(|_| ())
            .map_err(|err| queue_error(&self.urls.delay, err))
    }

    /// Puts a due event on the work queue. `dedup_id` makes a repeated forward a no-op.
    pub async fn work(&self, body: String, dedup_id: &str) -> Result<(), QueueError> {
        self.send_in_lane(&self.urls.work, body, dedup_id).await
    }

    /// Puts an event an operator must act on on the parked queue.
    pub async fn park(&self, body: String, dedup_id: &str) -> Result<(), QueueError> {
        self.send_in_lane(&self.urls.parked, body, dedup_id).await
    }

    /// Sends to a FIFO queue, in the one message group.
    async fn send_in_lane(
        &self,
        queue: &str,
        body: String,
        dedup_id: &str,
    ) -> Result<(), QueueError> {
        self.client
            .send_message()
            .queue_url(queue)
            .message_body(body)
            .message_group_id(MESSAGE_GROUP)
            .message_deduplication_id(dedup_id)
            .send()
            .await
            .map(|_| ())
            .map_err(|err| queue_error(queue, err))
    }
}

fn queue_error<E, R>(queue: &str, err: SdkError<E, R>) -> QueueError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    QueueError {
        queue: queue.to_owned(),
        code: crate::aws::error_code(&err),
        source: Box::new(err),
    }
}
