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
    path_into(index, leaves, &mut path);
    Some(path)
}

fn path_into(m: usize, leaves: &[Hash], path: &mut Vec<Hash>) {
    let n = leaves.len();
    if n <= 1 {
        return;
    }
    let k = split(n);
    if m < k {
        path_into(m, &leaves[..k], path);
        path.push(root(&leaves[k..]));
    } else {
        path_into(m - k, &leaves[k..], path);
        path.push(root(&leaves[..k]));
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
}
