//! SciPy's nearest-neighbour-chain algorithm for average linkage.
//!
//! Same steps and tie rules as `scipy.cluster.hierarchy._hierarchy.nn_chain`
//! (method "average"): a chain starts at the lowest live slot; the next link
//! is the nearest live slot by strict `<`, starting from the predecessor's
//! distance (so the predecessor wins ties, then the lowest index); mutual
//! nearest neighbours x < y merge into slot y with the Lance–Williams update
//! `d(k, x ∪ y) = (|x|·d(k, x) + |y|·d(k, y)) / (|x| + |y|)`.
//!
//! Work: O(n²) time, in place on the n×n matrix. Dead slots are masked with a
//! +∞ vector instead of being written into the matrix, and once half of the
//! live slots are gone the matrix is compacted in place, so late merges scan
//! and write short rows.

use crate::cluster::DistanceMatrix;

/// One merge of the dendrogram, in the order the chain found it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Merge {
    /// Smaller slot: its cluster is absorbed.
    pub absorbed: usize,
    /// Larger slot: it holds the union afterwards.
    pub kept: usize,
    /// Average-linkage distance between the two clusters.
    pub height: f64,
}

/// SciPy's `nn_chain` for average linkage; returns merges in chain order.
pub fn nn_chain(matrix: DistanceMatrix) -> Vec<Merge> {
    let (n, data) = matrix.into_raw();
    let mut work = Working::new(n, data);
    let mut merges = Vec::with_capacity(n.saturating_sub(1));
    let mut chain: Vec<usize> = Vec::with_capacity(n);
    for _ in 1..n {
        if chain.is_empty() {
            chain.push(work.first_live());
        }
        let (x, y, height) = work.grow_chain(&mut chain);
        let (absorbed, kept) = if x < y { (x, y) } else { (y, x) };
        work.merge(absorbed, kept);
        merges.push(Merge {
            absorbed: work.slots[absorbed],
            kept: work.slots[kept],
            height,
        });
        if work.live * 2 <= work.m && work.m > 64 {
            work.compact(&mut chain);
        }
    }
    merges
}

/// The working matrix over positions `0..m`, each standing for an original slot.
struct Working {
    m: usize,
    /// m×m row-major distances; the diagonal is +∞.
    data: Vec<f64>,
    /// Original slot of each position, ascending, so index order is preserved.
    slots: Vec<usize>,
    /// Cluster size per position; 0 once absorbed.
    sizes: Vec<usize>,
    /// 0 for a live position, +∞ for an absorbed one.
    mask: Vec<f64>,
    live: usize,
}

impl Working {
    fn new(n: usize, mut data: Vec<f64>) -> Self {
        for i in 0..n {
            data[i * n + i] = f64::INFINITY;
        }
        Self {
            m: n,
            data,
            slots: (0..n).collect(),
            sizes: vec![1; n],
            mask: vec![0.0; n],
            live: n,
        }
    }

    fn first_live(&self) -> usize {
        self.sizes.iter().position(|&s| s > 0).unwrap_or(0)
    }

    /// Extends the chain until its last two entries are mutual nearest
    /// neighbours, pops them and returns them with their distance.
    fn grow_chain(&self, chain: &mut Vec<usize>) -> (usize, usize, f64) {
        let m = self.m;
        loop {
            let x = chain[chain.len() - 1];
            let previous = (chain.len() > 1).then(|| chain[chain.len() - 2]);
            let row = &self.data[x * m..(x + 1) * m];
            let (mut y, mut best) = match previous {
                Some(p) => (p, row[p]),
                None => (x, f64::INFINITY),
            };
            for (i, (&d, &dead)) in row.iter().zip(&self.mask).enumerate() {
                if d + dead < best {
                    best = d;
                    y = i;
                }
            }
            if Some(y) == previous {
                chain.truncate(chain.len() - 2);
                return (x, y, best);
            }
            chain.push(y);
        }
    }

    /// Lance–Williams update: position `kept` becomes the union.
    fn merge(&mut self, absorbed: usize, kept: usize) {
        let m = self.m;
        let (nx, ny) = (self.sizes[absorbed], self.sizes[kept]);
        self.sizes[absorbed] = 0;
        self.sizes[kept] = nx + ny;
        self.mask[absorbed] = f64::INFINITY;
        self.live -= 1;
        let (wx, wy, total) = (nx as f64, ny as f64, (nx + ny) as f64);
        // absorbed < kept, so the absorbed row lies in the first part.
        let (head, tail) = self.data.split_at_mut(kept * m);
        let absorbed_row = &head[absorbed * m..(absorbed + 1) * m];
        let kept_row = &mut tail[..m];
        // Entries of dead positions become garbage; the mask hides them.
        for (d, &a) in kept_row.iter_mut().zip(absorbed_row) {
            *d = (wx * a + wy * *d) / total;
        }
        kept_row[kept] = f64::INFINITY;
        for i in 0..m {
            self.data[i * m + kept] = self.data[kept * m + i];
        }
    }

    /// Drops absorbed positions, in place, keeping the order of the rest.
    fn compact(&mut self, chain: &mut [usize]) {
        let keep: Vec<usize> = (0..self.m).filter(|&p| self.sizes[p] > 0).collect();
        let (old, new) = (self.m, keep.len());
        // Each write lands at or before the read it copies, and every later
        // read lies after it, so copying forward in place is safe.
        for (r, &from_r) in keep.iter().enumerate() {
            for (c, &from_c) in keep.iter().enumerate() {
                self.data[r * new + c] = self.data[from_r * old + from_c];
            }
        }
        self.data.truncate(new * new);
        let mut position = vec![0; old];
        for (r, &p) in keep.iter().enumerate() {
            position[p] = r;
        }
        for link in chain.iter_mut() {
            *link = position[*link];
        }
        self.slots = keep.iter().map(|&p| self.slots[p]).collect();
        self.sizes = keep.iter().map(|&p| self.sizes[p]).collect();
        self.mask = vec![0.0; new];
        self.m = new;
    }
}
