"""Clusters of digits found without labels: balanced k-means on a VAE's codes, or on a spectral embedding of the
graph that links each digit's code to its nearest neighbours' codes.

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


def spectral_embedding(features: torch.Tensor, neighbours: int = 10, dims: int = 20) -> torch.Tensor:
    """Rows (N, dims) that place features (N, D) by the graph linking each to its nearest neighbours (Ng, Jordan and
    Weiss, 2001, with each point's own scale: Zelnik-Manor and Perona, 2004). Two points are close here when a chain
    of near neighbours joins them, so a cluster may follow a curved strand of codes that k-means would cut.

    The weight between i and its neighbour j is exp(-d²/(σᵢσⱼ)), σ the distance to a point's last neighbour, made
    symmetric; the rows are the top eigenvectors of the normalised weights D^-1/2 W D^-1/2, scaled by D^-1/2 (the
    random walk's eigenvectors) and put on the unit sphere. Dense: N² memory, N of a few thousand."""
    n = len(features)
    if not 1 <= neighbours < n or not 1 <= dims <= n:
        raise ValueError(f"neighbours must be 1 to {n - 1} and dims 1 to {n}")
    features = features.double()
    distance = torch.cdist(features, features)
    distance.fill_diagonal_(float("inf"))
    near, index = distance.topk(neighbours, largest=False)  # (N, neighbours), nearest first
    del distance
    scale = near[:, -1].clamp_min(1e-12)
    weights = torch.zeros(n, n, dtype=torch.float64)
    weights.scatter_(1, index, torch.exp(-near.square() / (scale[:, None] * scale[index])))
    weights = torch.maximum(weights, weights.T)
    inverse_root = weights.sum(1).rsqrt()
    weights = inverse_root[:, None] * weights * inverse_root[None, :]
    vectors = torch.linalg.eigh(weights)[1][:, -dims:]  # eigenvalues ascend: the last ones are the top
    rows = vectors * inverse_root[:, None]
    rows = rows * torch.where(rows[:1] < 0, -1.0, 1.0)  # each eigenvector's sign fixed by its first row
    return (rows / rows.norm(dim=1, keepdim=True)).float()


CLUSTER_SPACES = ("codes", "spectral")


@torch.no_grad()
def vae_clusters(
    vae, images: torch.Tensor, k: int, seed: int = 0, space: str = "codes", batch_size: int = 1000
) -> torch.Tensor:
    """Balanced k-means clusters (N,) of digits (N, 1, 28, 28) in [0, 1]: space "codes" clusters the VAE's code for
    each (its embed); "spectral" clusters the spectral embedding of the neighbour graph of its posterior means."""
    if space not in CLUSTER_SPACES:
        raise ValueError(f"space must be one of {CLUSTER_SPACES}")
    vae.eval()
    device = next(vae.parameters()).device
    encode = vae.embed if space == "codes" else (lambda x: vae.encode(x)[0])
    codes = torch.cat([encode(images[i : i + batch_size].to(device)).cpu() for i in range(0, len(images), batch_size)])
    if space == "spectral":
        codes = spectral_embedding(codes)
    return balanced_kmeans(codes, k, seed)
