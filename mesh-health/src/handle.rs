//! The handle of a background control loop: dropping it stops the loop.

use tokio::task::JoinHandle;

/// Stops a mesh-health control loop (and, for the health checker, every host check task)
/// when dropped. Hold it as long as the loop should run.
#[derive(Debug)]
pub struct LoopHandle {
    task: JoinHandle<()>,
}

impl LoopHandle {
    pub(crate) fn new(task: JoinHandle<()>) -> Self {
        Self { task }
    }

    /// Whether the loop has ended (every snapshot receiver dropped).
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

impl Drop for LoopHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}
