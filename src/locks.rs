//! One lock per Okta group, so that a process never runs two read-merge-writes of the same
//! group's assignment at once (Okta's write replaces the whole list and has no condition).
//! Entries live only while someone holds or waits for them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

#[derive(Debug, Default)]
pub struct GroupLocks {
    locks: Mutex<HashMap<String, Arc<AsyncMutex<()>>>>,
}

/// Held while a group's assignment is being changed.
pub struct GroupGuard<'a> {
    owner: &'a GroupLocks,
    group_id: String,
    guard: Option<OwnedMutexGuard<()>>,
}

impl GroupLocks {
    pub async fn lock(&self, group_id: &str) -> GroupGuard<'_> {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
            locks.entry(group_id.to_owned()).or_default().clone()
        };
        let guard = lock.lock_owned().await;
        GroupGuard {
            owner: self,
            group_id: group_id.to_owned(),
            guard: Some(guard),
        }
    }

    /// How many groups are locked or waited for.
    pub fn held(&self) -> usize {
        self.locks.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

impl Drop for GroupGuard<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut locks = self.owner.locks.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(lock) = locks.get(&self.group_id)
            && Arc::strong_count(lock) == 1
        {
            locks.remove(&self.group_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn holders_of_one_group_take_turns_and_other_groups_do_not_wait() {
        let locks = Arc::new(GroupLocks::default());
        let inside = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (locks, inside, most) = (locks.clone(), inside.clone(), most.clone());
            tasks.push(tokio::spawn(async move {
                let _guard = locks.lock("00g1").await;
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(5)).await;
                inside.fetch_sub(1, Ordering::SeqCst);
            }));
        }
        let other = locks.lock("00g2").await;
        drop(other);
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 1);
        assert_eq!(locks.held(), 0, "released locks are forgotten");
    }
}
