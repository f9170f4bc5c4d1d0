//! Round-robin endpoint choice, per core, per cluster. The cursor is keyed by the cluster's stable
//! id, so it carries over when a new snapshot keeps the same cluster.

use std::collections::HashMap;

use foldhash::fast::RandomState;

use crate::snapshot::{Cluster, ClusterId, Endpoint};

/// Per-core round-robin cursors.
#[derive(Debug, Default)]
pub struct Balancer {
    cursors: HashMap<ClusterId, usize, RandomState>,
}

impl Balancer {
    /// The next endpoint of `cluster`, or `None` for a cluster without endpoints.
    pub fn pick<'c>(&mut self, cluster: &'c Cluster) -> Option<&'c Endpoint> {
        match cluster.endpoints.len() {
            0 => None,
            1 => cluster.endpoints.first(),
            n => {
                let cursor = self.cursors.entry(cluster.id).or_insert(0);
                let chosen = *cursor % n;
                *cursor = chosen + 1;
                cluster.endpoints.get(chosen)
            }
        }
    }

    /// The endpoint after `current` in `cluster` (used when retrying elsewhere).
    pub fn next_after<'c>(
        &mut self,
        cluster: &'c Cluster,
        current: &Endpoint,
    ) -> Option<&'c Endpoint> {
        let n = cluster.endpoints.len();
        let pos = cluster.endpoints.iter().position(|e| e == current)?;
        cluster.endpoints.get((pos + 1) % n.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster(ports: &[u16]) -> Cluster {
        Cluster {
            id: ClusterId(7),
            endpoints: ports
                .iter()
                .map(|p| Endpoint {
                    addr: ([127, 0, 0, 1], *p).into(),
                    authority: format!("127.0.0.1:{p}"),
                    base_path: String::new(),
                    tls: None,
                })
                .collect(),
        }
    }

    #[test]
    fn rotates_over_endpoints_and_keeps_cursor_per_cluster_id() {
        let c = cluster(&[1, 2, 3]);
        let mut b = Balancer::default();
        let picks: Vec<u16> = (0..6).map(|_| b.pick(&c).unwrap().addr.port()).collect();
        assert_eq!(picks, vec![1, 2, 3, 1, 2, 3]);
        // A new snapshot with the same cluster id continues where the old one left off.
        let same = cluster(&[1, 2, 3]);
        b.pick(&c);
        assert_eq!(b.pick(&same).unwrap().addr.port(), 2);
    }

    #[test]
    fn empty_and_single_clusters() {
        let mut b = Balancer::default();
        assert!(b.pick(&cluster(&[])).is_none());
        assert_eq!(b.pick(&cluster(&[9])).unwrap().addr.port(), 9);
    }
}
