//! The receipt log's Merkle tree, as RFC 9162 (Certificate Transparency 2.0, §2.1) defines
//! it: leaves and nodes hashed with SHA-256 under different prefixes, so that a leaf can never
//! pass for a node. A receipt carries the proof that it is in the tree of a signed tree head;
//! anyone can check that proof offline, and that no receipt was put ahead of another.

use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

/// The hash of a leaf: SHA-256(0x00 ‖ data).
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// The hash of an inner node: SHA-256(0x01 ‖ left ‖ right).
fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The largest power of two smaller than `n` (n ≥ 2).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// The root of the tree over these leaf hashes (MTH in RFC 9162); the empty tree's root is
/// the hash of nothing.
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// The inclusion proof of leaf `index` in the tree over `leaves` (PATH in RFC 9162), from the
/// leaf up. `None` when the index is outside the tree.
pub fn inclusion_proof(index: usize, leaves: &[Hash]) -> Option<Vec<Hash>> {
    if index >= leaves.len() {
        return None;
    }
    let mut path = Vec::new();
    path_into(
        index,
        0,
        leaves.len(),
        &|s, n| root(&leaves[s..s + n]),
        &mut path,
    );
    Some(path)
}

/// The consistency proof between the tree of the first `old_size` of `leaves` and the tree
/// over all of them (PROOF in RFC 9162, §2.1.4.1). Empty when the sizes are equal or the old
/// tree is empty (nothing to prove); `None` when `old_size` is larger than the tree.
pub fn consistency_proof(old_size: usize, leaves: &[Hash]) -> Option<Vec<Hash>> {
    let n = leaves.len();
    if old_size > n {
        return None;
    }
    let mut proof = Vec::new();
    if old_size > 0 && old_size < n {
        subproof_into(
            old_size,
            0,
            n,
            true,
            &|s, n| root(&leaves[s..s + n]),
            &mut proof,
        );
    }
    Some(proof)
}

/// The root of the `n` leaves from leaf `start`: a subtree as the proofs meet it.
type SubtreeRoot<'a> = &'a dyn Fn(usize, usize) -> Hash;

/// PATH(m, D[start..start+n]) of RFC 9162, §2.1.3.1, appended to `path`.
fn path_into(m: usize, start: usize, n: usize, mth: SubtreeRoot, path: &mut Vec<Hash>) {
    if n <= 1 {
        return;
    }
    let k = split(n);
    if m < k {
        path_into(m, start, k, mth, path);
        path.push(mth(start + k, n - k));
    } else {
        path_into(m - k, start + k, n - k, mth, path);
        path.push(mth(start, k));
    }
}

/// SUBPROOF(m, D[start..start+n], b) of RFC 9162, §2.1.4.1, appended to `proof`.
fn subproof_into(
    m: usize,
    start: usize,
    n: usize,
    complete: bool,
    mth: SubtreeRoot,
    proof: &mut Vec<Hash>,
) {
    if m == n {
        // The old tree is this whole subtree: the verifier knows its hash already only when
        // it is the old tree itself.
        if !complete {
            proof.push(mth(start, n));
        }
        return;
    }
    let k = split(n);
    if m <= k {
        subproof_into(m, start, k, complete, mth, proof);
        proof.push(mth(start + k, n - k));
    } else {
        subproof_into(m - k, start + k, n - k, false, mth, proof);
        proof.push(mth(start, k));
    }
}

/// Checks that the tree of `new_size` leaves with root `new_root` extends the tree of
/// `old_size` leaves with root `old_root` — that no leaf of the old tree was changed, removed
/// or reordered — by the verification algorithm of RFC 9162, §2.1.4.2. Equal sizes need an
/// empty proof and equal roots; every tree extends the empty one (empty proof).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> bool {
    if old_size > new_size {
        return false;
    }
    if old_size == new_size {
        return proof.is_empty() && old_root == new_root;
    }
    if old_size == 0 {
        return proof.is_empty() && *old_root == root(&[]);
    }
    if proof.is_empty() {
        return false;
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old_size.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let (mut f_n, mut s_n) = (old_size - 1, new_size - 1);
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    let (mut f_r, mut s_r) = (path[0], path[0]);
    for c in &path[1..] {
        if s_n == 0 {
            return false;
        }
        if f_n & 1 == 1 || f_n == s_n {
            f_r = node_hash(c, &f_r);
            s_r = node_hash(c, &s_r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            s_r = node_hash(&s_r, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    f_r == *old_root && s_r == *new_root && s_n == 0
}

/// A tree that grows a leaf at a time and answers for any of its earlier sizes too: the
/// roots of all its complete subtrees are kept (level 0 the leaves, level `h` the subtrees of
/// 2^h leaves), so a leaf costs one hash and a half on average, and a root or a proof of any
/// size costs O(log² n) hashes instead of rehashing the whole tree (`root` over 100 000 leaves
/// is 100 000 hashes). Memory: about twice the leaves' 32 bytes.
#[derive(Clone, Debug, Default)]
pub struct Tree {
    levels: Vec<Vec<Hash>>,
}

impl Tree {
    pub fn new() -> Tree {
        Tree::default()
    }

    /// The number of leaves.
    pub fn len(&self) -> usize {
        self.levels.first().map_or(0, Vec::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The hash of leaf `index`.
    pub fn leaf(&self, index: usize) -> Option<Hash> {
        self.levels.first()?.get(index).copied()
    }

    /// Appends a leaf (its [`leaf_hash`]).
    pub fn push(&mut self, leaf: Hash) {
        let mut level = 0;
        let mut hash = leaf;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let nodes = &mut self.levels[level];
            nodes.push(hash);
            if nodes.len() % 2 == 1 {
                break;
            }
            hash = node_hash(&nodes[nodes.len() - 2], &nodes[nodes.len() - 1]);
            level += 1;
        }
    }

    /// The root of the tree of its first `size` leaves; `None` beyond its size.
    pub fn root(&self, size: usize) -> Option<Hash> {
        (size <= self.len()).then(|| self.subtree_root(0, size))
    }

    /// The inclusion proof of leaf `index` in the tree of the first `size` leaves.
    pub fn inclusion_proof(&self, index: usize, size: usize) -> Option<Vec<Hash>> {
        if index >= size || size > self.len() {
            return None;
        }
        let mut path = Vec::new();
        path_into(index, 0, size, &|s, n| self.subtree_root(s, n), &mut path);
        Some(path)
    }

    /// The consistency proof between the trees of the first `old_size` and `new_size` leaves.
    pub fn consistency_proof(&self, old_size: usize, new_size: usize) -> Option<Vec<Hash>> {
        if old_size > new_size || new_size > self.len() {
            return None;
        }
        let mut proof = Vec::new();
        if old_size > 0 && old_size < new_size {
            let mth = |s, n| self.subtree_root(s, n);
            subproof_into(old_size, 0, new_size, true, &mth, &mut proof);
        }
        Some(proof)
    }

    /// MTH of the `n` leaves from `start`, where `start` is a multiple of the largest power
    /// of two not above `n` — true of every subtree the root and the proofs meet.
    fn subtree_root(&self, start: usize, n: usize) -> Hash {
        match n {
            0 => Sha256::digest([]).into(),
            1 => self.levels[0][start],
            n if n.is_power_of_two() => {
                let level = n.trailing_zeros() as usize;
                debug_assert_eq!(start % n, 0);
                self.levels[level][start >> level]
            }
            n => {
                let k = split(n);
                node_hash(
                    &self.subtree_root(start, k),
                    &self.subtree_root(start + k, n - k),
                )
            }
        }
    }
}

/// Checks that `leaf` is leaf `index` of the tree of `size` leaves with this `root`, by the
/// verification algorithm of RFC 9162, §2.1.3.2.
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut f_n, mut s_n) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s_n == 0 {
            return false;
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = node_hash(p, &r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    s_n == 0 && r == *root
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(format!("receipt {i}").as_bytes()))
            .collect()
    }

    #[test]
    fn roots_follow_the_definition() {
        let l = leaves(3);
        assert_eq!(root(&[]), <[u8; 32]>::from(Sha256::digest([])));
        assert_eq!(root(&l[..1]), l[0]);
        assert_eq!(root(&l[..2]), node_hash(&l[0], &l[1]));
        // Three leaves: the left subtree takes the largest power of two below 3.
        assert_eq!(root(&l), node_hash(&node_hash(&l[0], &l[1]), &l[2]));
        // A leaf is never the hash of a node made of the same bytes.
        let mut both = l[0].to_vec();
        both.extend_from_slice(&l[1]);
        assert_ne!(leaf_hash(&both), node_hash(&l[0], &l[1]));
    }

    #[test]
    fn every_leaf_of_every_size_has_a_proof_that_verifies() {
        for n in 1..=70 {
            let l = leaves(n);
            let r = root(&l);
            for i in 0..n {
                let proof = inclusion_proof(i, &l).unwrap();
                assert!(
                    verify_inclusion(&l[i], i as u64, n as u64, &proof, &r),
                    "leaf {i} of {n}"
                );
            }
            assert!(inclusion_proof(n, &l).is_none());
        }
    }

    #[test]
    fn a_proof_fails_for_another_leaf_place_size_or_root() {
        let l = leaves(13);
        let r = root(&l);
        let proof = inclusion_proof(5, &l).unwrap();
        assert!(verify_inclusion(&l[5], 5, 13, &proof, &r));
        // Another leaf in its place, or the same leaf claimed at another place.
        assert!(!verify_inclusion(&l[6], 5, 13, &proof, &r));
        assert!(!verify_inclusion(&l[5], 4, 13, &proof, &r));
        // Under another root, or in a tree whose shape differs (the size itself is bound to
        // the root by the signed tree head, not by the proof).
        assert!(!verify_inclusion(&l[5], 5, 13, &proof, &root(&l[..12])));
        assert!(!verify_inclusion(&l[5], 5, 8, &proof, &r));
        // A tampered or shortened proof.
        let mut tampered = proof.clone();
        tampered[1][0] ^= 1;
        assert!(!verify_inclusion(&l[5], 5, 13, &tampered, &r));
        assert!(!verify_inclusion(
            &l[5],
            5,
            13,
            &proof[..proof.len() - 1],
            &r
        ));
        assert!(!verify_inclusion(&l[5], 13, 13, &proof, &r));
    }

    #[test]
    fn the_example_tree_of_rfc_6962_has_the_proofs_it_lists() {
        // RFC 6962, §2.1.3: seven leaves d0…d6, a…f their leaf hashes, g…l the nodes.
        let d = leaves(7);
        let (a, b, c, dd, e, f) = (d[0], d[1], d[2], d[3], d[4], d[5]);
        let (g, h, i) = (node_hash(&a, &b), node_hash(&c, &dd), node_hash(&e, &f));
        let j = d[6];
        let (k, l) = (node_hash(&g, &h), node_hash(&i, &j));
        assert_eq!(root(&d), node_hash(&k, &l));
        assert_eq!(inclusion_proof(0, &d).unwrap(), vec![b, h, l]);
        assert_eq!(inclusion_proof(3, &d).unwrap(), vec![c, g, l]);
        assert_eq!(inclusion_proof(4, &d).unwrap(), vec![f, j, k]);
        assert_eq!(inclusion_proof(6, &d).unwrap(), vec![i, k]);
        assert_eq!(consistency_proof(3, &d).unwrap(), vec![c, dd, g, l]);
        assert_eq!(consistency_proof(4, &d).unwrap(), vec![l]);
        assert_eq!(consistency_proof(6, &d).unwrap(), vec![i, j, k]);
    }

    #[test]
    fn every_pair_of_sizes_has_a_consistency_proof_that_verifies() {
        let all = leaves(41);
        for new in 0..=all.len() {
            let l = &all[..new];
            let new_root = root(l);
            for old in 0..=new {
                let old_root = root(&l[..old]);
                let proof = consistency_proof(old, l).unwrap();
                assert!(
                    verify_consistency(old as u64, new as u64, &old_root, &new_root, &proof),
                    "{old} → {new}"
                );
                if old > 0 && old < new {
                    assert!(!proof.is_empty());
                    // Any one hash of the proof changed, one left out or one added: refused.
                    for at in 0..proof.len() {
                        let mut forged = proof.clone();
                        forged[at][7] ^= 0x40;
                        assert!(
                            !verify_consistency(
                                old as u64, new as u64, &old_root, &new_root, &forged
                            ),
                            "{old} → {new}, hash {at} changed"
                        );
                        let mut shorter = proof.clone();
                        shorter.remove(at);
                        assert!(
                            !verify_consistency(
                                old as u64, new as u64, &old_root, &new_root, &shorter
                            ),
                            "{old} → {new}, hash {at} left out"
                        );
                    }
                    let mut longer = proof.clone();
                    longer.push(all[0]);
                    assert!(!verify_consistency(
                        old as u64, new as u64, &old_root, &new_root, &longer
                    ));
                    // Another old tree (a leaf of it changed), or another new one.
                    let mut rewritten = l[..old].to_vec();
                    rewritten[old - 1][0] ^= 1;
                    assert!(!verify_consistency(
                        old as u64,
                        new as u64,
                        &root(&rewritten),
                        &new_root,
                        &proof
                    ));
                    assert!(!verify_consistency(
                        old as u64,
                        new as u64,
                        &old_root,
                        &root(&all[..new - 1]),
                        &proof
                    ));
                    // (The sizes themselves are bound to the roots by the signed tree
                    // heads, not by the proof: some other sizes have proofs of the same shape.)
                }
            }
            assert!(consistency_proof(new + 1, l).is_none());
        }
        // Nothing proves a smaller tree from a larger one, or equal sizes with two roots.
        let r5 = root(&all[..5]);
        let r9 = root(&all[..9]);
        assert!(!verify_consistency(9, 5, &r9, &r5, &[]));
        assert!(!verify_consistency(5, 5, &r5, &r9, &[]));
        assert!(!verify_consistency(0, 5, &r9, &r5, &[]));
        assert!(!verify_consistency(5, 9, &r5, &r9, &[]));
    }

    #[test]
    fn the_growing_tree_answers_as_the_definition_for_every_size() {
        let all = leaves(70);
        let mut tree = Tree::new();
        assert_eq!(tree.root(0), Some(root(&[])));
        for (n, leaf) in all.iter().enumerate() {
            tree.push(*leaf);
            assert_eq!(tree.len(), n + 1);
            assert_eq!(tree.leaf(n), Some(*leaf));
        }
        for size in 0..=all.len() {
            let l = &all[..size];
            assert_eq!(tree.root(size), Some(root(l)), "root of {size}");
            for i in 0..size {
                assert_eq!(tree.inclusion_proof(i, size), inclusion_proof(i, l));
            }
            assert!(tree.inclusion_proof(size, size).is_none());
            for old in 0..=size {
                assert_eq!(
                    tree.consistency_proof(old, size),
                    consistency_proof(old, l),
                    "{old} → {size}"
                );
            }
        }
        assert!(tree.root(71).is_none());
        assert!(tree.inclusion_proof(3, 71).is_none());
        assert!(tree.consistency_proof(10, 71).is_none());
        assert!(tree.consistency_proof(11, 10).is_none());
    }

    #[test]
    fn a_tree_of_100_000_leaves_grows_and_proves_quickly() {
        let started = std::time::Instant::now();
        let mut tree = Tree::new();
        for i in 0..100_000u32 {
            tree.push(leaf_hash(&i.to_be_bytes()));
        }
        let grown = started.elapsed();
        let started = std::time::Instant::now();
        for size in [99_999usize, 100_000] {
            let root = tree.root(size).unwrap();
            for index in [0usize, 4_095, 65_536, size - 1] {
                let proof = tree.inclusion_proof(index, size).unwrap();
                let leaf = tree.leaf(index).unwrap();
                assert!(verify_inclusion(
                    &leaf,
                    index as u64,
                    size as u64,
                    &proof,
                    &root
                ));
            }
            let old = tree.root(77_777).unwrap();
            let proof = tree.consistency_proof(77_777, size).unwrap();
            assert!(verify_consistency(77_777, size as u64, &old, &root, &proof));
        }
        let proved = started.elapsed();
        // Generous bounds for a debug build on a busy machine; what matters is that proofs
        // do not rehash the tree (that took about 100 ms per root here).
        assert!(grown.as_millis() < 3_000, "{grown:?}");
        assert!(proved.as_millis() < 50, "{proved:?}");
    }
}
