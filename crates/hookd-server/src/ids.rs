//! Ids: new prefixed, time-sortable ids (`app_`, `ep_`, `msg_`, `atmpt_`, tasks) from this
//! node's one generator, stamped with its clock's time.

use std::sync::Arc;

use hookd_core::{AppId, AttemptId, EndpointId, IdGenerator, MessageId, TaskId};
use rand::Rng;

use crate::clock::Clock;

/// A handle on the node's id generator; clones share it, so ids stay monotonic.
#[derive(Clone)]
pub struct Ids {
    generator: Arc<IdGenerator>,
    clock: Clock,
}

impl Ids {
    pub fn new(clock: Clock) -> Ids {
        Ids {
            generator: Arc::new(IdGenerator::new()),
            clock,
        }
    }

    fn next_raw(&self) -> u128 {
        self.generator
            .next_raw(self.clock.now().as_millis(), rand::rng().random())
    }

    pub fn new_app_id(&self) -> AppId {
        AppId::from_raw(self.next_raw())
    }

    pub fn new_endpoint_id(&self) -> EndpointId {
        EndpointId::from_raw(self.next_raw())
    }

    pub fn new_message_id(&self) -> MessageId {
        MessageId::from_raw(self.next_raw())
    }

    pub fn new_attempt_id(&self) -> AttemptId {
        AttemptId::from_raw(self.next_raw())
    }

    pub fn new_task_id(&self) -> TaskId {
        TaskId::from_raw(self.next_raw())
    }
}
