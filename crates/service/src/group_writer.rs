//! One writer for SQLite's single-writer queues. SQLite has one writer and
//! each commit waits for the disk (`synchronous=FULL`); jobs sent at the
//! same moment queue here, and one task hands up to `GROUP` of them at a
//! time to the queue's `write`, which commits them together and answers
//! each. `Services` owns its writers and stops them (`Services::stop`):
//! what is queued by then is still written.

use std::future::Future;
use std::sync::{Mutex, OnceLock};

use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinHandle;
use yijia_store::Db;

use crate::{Result, ServiceError};

/// The most jobs written in one commit.
pub(crate) const GROUP: usize = 64;

/// What one queue writes, a group per commit.
pub(crate) trait Group: 'static {
    type Job: Send + 'static;
    type Answer: Send + 'static;
    /// Named in the error a caller gets when the writer has stopped.
    const WHAT: &'static str;
    /// Writes the jobs and answers each, in order.
    fn write(db: &Db, jobs: &[Self::Job]) -> impl Future<Output = Vec<Self::Answer>> + Send;
}

type Queued<G> = (<G as Group>::Job, oneshot::Sender<<G as Group>::Answer>);

/// A queue and the task that empties it, started on first use.
pub(crate) struct GroupWriter<G: Group> {
    queue: OnceLock<mpsc::Sender<Queued<G>>>,
    task: Mutex<Option<JoinHandle<()>>>,
    stop: std::sync::Arc<Notify>,
}

impl<G: Group> Default for GroupWriter<G> {
    fn default() -> Self {
        Self { queue: OnceLock::new(), task: Mutex::new(None), stop: Default::default() }
    }
}

impl<G: Group> std::fmt::Debug for GroupWriter<G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupWriter").field("what", &G::WHAT).field("started", &self.queue.get().is_some()).finish()
    }
}

impl<G: Group> GroupWriter<G> {
    /// Queues a job and waits for its answer.
    pub(crate) async fn send(&self, db: &Db, job: G::Job) -> Result<G::Answer> {
        let queue = self
            .queue
            .get_or_init(|| {
                let (send, receive) = mpsc::channel(4 * GROUP);
                let task = tokio::spawn(run::<G>(db.clone(), receive, self.stop.clone()));
                *self.task.lock().unwrap_or_else(|e| e.into_inner()) = Some(task);
                send
            })
            .clone();
        let (reply, answer) = oneshot::channel();
        let stopped = || ServiceError::internal(format!("the writer of {} has stopped", G::WHAT));
        queue.send((job, reply)).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())
    }

    /// Takes no more jobs, writes the ones queued, and waits for that.
    pub(crate) async fn stop(&self) {
        self.stop.notify_one();
        let task = self.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

async fn run<G: Group>(db: Db, mut queue: mpsc::Receiver<Queued<G>>, stop: std::sync::Arc<Notify>) {
    loop {
        let first = tokio::select! {
            job = queue.recv() => job,
            _ = stop.notified() => {
                // what was sent before the stop is still written
                queue.close();
                queue.recv().await
            }
        };
        let Some(first) = first else { return };
        let mut jobs = vec![first];
        while jobs.len() < GROUP {
            match queue.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let (jobs, replies): (Vec<G::Job>, Vec<_>) = jobs.into_iter().unzip();
        let answers = G::write(&db, &jobs).await;
        for (reply, a) in replies.into_iter().zip(answers) {
            let _ = reply.send(a);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Mutex as StdMutex;

    use yijia_store::testing::TestDb;

    use super::*;

    /// The sizes of the groups written, in order.
    static GROUPS: StdMutex<Vec<usize>> = StdMutex::new(Vec::new());

    struct Doubles;

    impl Group for Doubles {
        type Job = i64;
        type Answer = i64;
        const WHAT: &'static str = "doubles";

        async fn write(_: &Db, jobs: &[i64]) -> Vec<i64> {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            GROUPS.lock().unwrap().push(jobs.len());
            jobs.iter().map(|j| j * 2).collect()
        }
    }

    #[tokio::test]
    async fn jobs_sent_at_once_are_written_together_and_a_stop_writes_what_is_queued() {
        let db = TestDb::new().await;
        let w: GroupWriter<Doubles> = GroupWriter::default();
        let w = std::sync::Arc::new(w);
        let send = |n: i64| {
            let (w, db) = (w.clone(), db.db.clone());
            tokio::spawn(async move { w.send(&db, n).await })
        };
        // ten sent at once queue before the writer's first turn
        let sent: Vec<_> = (1..=10).map(send).collect();
        for (n, s) in (1..=10).zip(sent) {
            assert_eq!(s.await.unwrap().unwrap(), n * 2, "each gets its own answer");
        }
        assert_eq!(*GROUPS.lock().unwrap(), [10], "one group for ten sent at once");

        // queued, then the writer is told to stop: the queued ones are
        // still written and answered, and nothing is taken after
        let sent: Vec<_> = (11..=13).map(send).collect();
        tokio::task::yield_now().await;
        w.stop().await;
        for (n, s) in (11..=13).zip(sent) {
            assert_eq!(s.await.unwrap().unwrap(), n * 2);
        }
        let e = w.send(&db.db, 14).await.unwrap_err().to_string();
        assert!(e.contains("doubles") && e.contains("stopped"), "{e}");
    }
}
