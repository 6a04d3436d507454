"""Clusters of digits found without labels: balanced k-means on a VAE's codes.

A GAN conditioned on these clusters (GANConfig.code_source = "clusters") stays unconditional: it draws a cluster
uniformly from its latent, and no digit label is used anywhere, only the codes of a VAE trained on the same digits.
"""

import torch


def kmeans_plus_plus(features: torch.Tensor, k: int, generator: torch.Generator) -> torch.Tensor:
    """k starting centres (k, D) for features (N, D): each next one drawn with probability ∝ squared distance."""
    centres = features[torch.randint(len(features), (1,), generator=generator)]
    for _ in range(k - 1):
        distance = torch.cdist(features, centres).min(1).values.square()
        centres = torch.cat([centres, features[torch.multinomial(distance, 1, generator=generator)]])
    return centres


def balanced_assignment(features: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """Each row of features (N, D) to a centre (k, D), every centre taking ⌈N/k⌉ rows at most: the closest pairs
    (row, centre) first, skipping full centres and rows already placed. Returns (N,) indices."""
    n, k = len(features), len(centres)
    capacity = -(-n // k)
    distance = torch.cdist(features, centres).flatten()  # (N * k,)
    order = torch.argsort(distance, stable=True).tolist()
    assigned = [-1] * n
    load = [0] * k
    placed = 0
    for flat in order:
        row, centre = divmod(flat, k)
        if assigned[row] >= 0 or load[centre] >= capacity:
            continue
        assigned[row] = centre
        load[centre] += 1
        placed += 1
        if placed == n:
            break
    return torch.tensor(assigned)


def balanced_kmeans(features: torch.Tensor, k: int, seed: int = 0, iterations: int = 30) -> torch.Tensor:
    """Cluster features (N, D) into k groups of (almost) equal size: k-means++ starts, then rounds of the balanced
    assignment and centre updates until nothing moves. Deterministic for a seed. Returns (N,) cluster indices,
    renumbered so that cluster 0 has the smallest first member index (stable names across equal runs)."""
    if not 2 <= k <= len(features):
        raise ValueError(f"k must be 2 to {len(features)}")
    features = features.double()
    generator = torch.Generator("cpu").manual_seed(seed)
    centres = kmeans_plus_plus(features, k, generator)
    assigned = balanced_assignment(features, centres)
    for _ in range(iterations):
        centres = torch.stack([features[assigned == j].mean(0) for j in range(k)])
        moved = balanced_assignment(features, centres)
        if torch.equal(moved, assigned):
            break
        assigned = moved
    first = torch.full((k,), len(features))
    first = first.scatter_reduce(0, assigned, torch.arange(len(features)), reduce="amin")
    rename = torch.empty(k, dtype=torch.long)
    rename[torch.argsort(first)] = torch.arange(k)
    return rename[assigned]


def cluster_purity(clusters: torch.Tensor, labels: torch.Tensor) -> float:
    """The share of items whose label is their cluster's most common one (1.0: every cluster is one digit). A report
    on clusters found without labels; the labels play no part in finding them."""
    count = int(clusters.max()) + 1
    table = torch.zeros(count, int(labels.max()) + 1, dtype=torch.long)
    table.index_put_((clusters.long(), labels.long()), torch.ones(len(labels), dtype=torch.long), accumulate=True)
    return table.max(1).values.sum().item() / len(labels)


@torch.no_grad()
def vae_clusters(vae, images: torch.Tensor, k: int, seed: int = 0, batch_size: int = 1000) -> torch.Tensor:
    """Balanced k-means clusters (N,) of digits (N, 1, 28, 28) in [0, 1] by the VAE's code for each (its embed)."""
    vae.eval()
    device = next(vae.parameters()).device
    codes = torch.cat(
        [vae.embed(images[i : i + batch_size].to(device)).cpu() for i in range(0, len(images), batch_size)]
    )
    return balanced_kmeans(codes, k, seed)
