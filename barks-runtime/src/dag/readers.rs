//! When a shuffle's map outputs may be freed in local mode: once every stage
//! that reads them is complete.
//!
//! Local shuffles live in the driver's memory and cannot be lost, so a
//! complete stage never runs again and its parents' outputs have no reader
//! left. Freeing them keeps an iterative job (PageRank's loop) at the memory
//! of one iteration instead of one more shuffle per iteration; Spark frees a
//! shuffle when its dependency is garbage-collected, which for a loop's old
//! iterations is the same moment, only later. Cluster mode keeps them: a lost
//! map output there is recomputed from its parents' outputs.

use super::desc::StageDesc;

/// Counts, per stage, the stages reading its output that are not complete.
pub(crate) struct Readers {
    unfinished: Vec<usize>,
    complete: Vec<bool>,
}

impl Readers {
    pub(crate) fn new(stages: &[StageDesc]) -> Self {
        let mut unfinished = vec![0; stages.len()];
        for stage in stages {
            for &parent in &stage.parents {
                unfinished[parent] += 1;
            }
        }
        Readers {
            unfinished,
            complete: vec![false; stages.len()],
        }
    }

    /// Records that `stage` completed; returns the stages whose outputs
    /// nothing reads any more because of it (each once).
    pub(crate) fn completed(&mut self, stage: &StageDesc) -> Vec<usize> {
        if std::mem::replace(&mut self.complete[stage.id], true) {
            return Vec::new();
        }
        let mut freed = Vec::new();
        for &parent in &stage.parents {
            self.unfinished[parent] -= 1;
            if self.unfinished[parent] == 0 {
                freed.push(parent);
            }
        }
        freed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dag::StageKind;

    fn stage(id: usize, parents: &[usize]) -> StageDesc {
        StageDesc {
            id,
            kind: StageKind::ShuffleMap { shuffle: id },
            partitions: 2,
            parents: parents.to_vec(),
        }
    }

    #[test]
    fn outputs_are_freed_after_their_last_reader() {
        // 0 and 1 feed 2 (a join); 0 also feeds 3, which reads 2 too.
        let stages = [
            stage(0, &[]),
            stage(1, &[]),
            stage(2, &[0, 1]),
            stage(3, &[0, 2]),
        ];
        let mut readers = Readers::new(&stages);
        assert!(readers.completed(&stages[0]).is_empty());
        assert!(readers.completed(&stages[1]).is_empty());
        assert_eq!(readers.completed(&stages[2]), vec![1]);
        // A repeated completion frees nothing twice.
        assert!(readers.completed(&stages[2]).is_empty());
        assert_eq!(readers.completed(&stages[3]), vec![0, 2]);
    }

    #[test]
    fn a_stage_reading_one_parent_twice_frees_it_once() {
        let stages = [stage(0, &[]), stage(1, &[0, 0])];
        let mut readers = Readers::new(&stages);
        assert!(readers.completed(&stages[0]).is_empty());
        assert_eq!(readers.completed(&stages[1]), vec![0]);
    }
}
