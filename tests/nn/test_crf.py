"""The CRF against brute-force enumeration of every tag sequence, and its gradients by gradcheck."""

import itertools

import pytest
import torch

from lstmkit.errors import UserError
from lstmkit.nn.crf import CRF


def brute_force(crf: CRF, emissions: torch.Tensor, length: int, allowed=None):
    """log Z, the best path and its score for one sequence, by scoring all K^L tag sequences one by one."""
    K = crf.num_tags
    scores = {}
    for path in itertools.product(range(K), repeat=length):
        if allowed is not None:
            trans_ok, start_ok, end_ok = allowed
            if not start_ok[path[0]] or not end_ok[path[-1]] or any(not trans_ok[a, b] for a, b in zip(path, path[1:])):
                continue
        s = crf.start_transitions[path[0]] + crf.end_transitions[path[-1]]
        for t, tag in enumerate(path):
            s = s + emissions[t, tag]
            if t:
                s = s + crf.transitions[path[t - 1], tag]
        scores[path] = s
    values = torch.stack(list(scores.values()))
    best = max(scores, key=lambda p: float(scores[p].detach()))
    return torch.logsumexp(values, 0), list(best), scores[best]


def random_case(seed, K=3, T=5, B=4):
    torch.manual_seed(seed)
    crf = CRF(K).double()
    with torch.no_grad():  # larger than the init range, so that transitions matter
        for p in crf.parameters():
            p.normal_(0, 1)
    emissions = torch.randn(B, T, K, dtype=torch.float64)
    lengths = torch.randint(1, T + 1, (B,))
    lengths[0] = T
    mask = torch.arange(T)[None] < lengths[:, None]
    return crf, emissions, mask, lengths


@pytest.mark.parametrize("seed", range(6))
def test_log_partition_viterbi_and_score_equal_enumeration(seed):
    crf, emissions, mask, lengths = random_case(seed)
    log_z = crf.log_partition(emissions, mask)
    paths, best_scores = crf.decode(emissions, mask)
    tags = torch.randint(0, crf.num_tags, mask.shape)
    scored = crf.score(emissions, tags, mask)
    for b, L in enumerate(lengths.tolist()):
        z, best, best_score = brute_force(crf, emissions[b], L)
        assert torch.allclose(log_z[b], z, atol=1e-10)
        assert paths[b, :L].tolist() == best
        assert (paths[b, L:] == -1).all()
        assert torch.allclose(best_scores[b], best_score, atol=1e-10)
        single = crf.score(emissions[b : b + 1, :L], tags[b : b + 1, :L])
        assert torch.allclose(scored[b], single[0], atol=1e-12)


def test_probabilities_of_all_paths_sum_to_one():
    crf, emissions, mask, _ = random_case(7, K=2, T=4, B=1)
    total = sum(torch.exp(-crf.nll(emissions, torch.tensor([p]))) for p in itertools.product(range(2), repeat=4))
    assert torch.allclose(total, torch.tensor(1.0, dtype=torch.float64), atol=1e-12)


def test_constraints_forbid_paths_in_partition_and_decoding():
    torch.manual_seed(3)
    K = 3
    trans_ok = torch.tensor([[True, True, False], [True, True, True], [True, False, True]])
    start_ok = torch.tensor([True, True, False])
    end_ok = torch.tensor([True, False, True])
    crf = CRF(K, allowed=(trans_ok, start_ok, end_ok)).double()
    emissions = torch.randn(3, 5, K, dtype=torch.float64) * 3
    emissions[..., 2] += 5  # the forbidden-at-start tag is the most attractive one
    for b in range(3):
        z, best, _ = brute_force(crf, emissions[b], 5, (trans_ok, start_ok, end_ok))
        assert torch.allclose(crf.log_partition(emissions[b : b + 1])[0], z, atol=1e-10)
        assert crf.decode(emissions[b : b + 1])[0][0].tolist() == best
    forbidden = torch.tensor([[2, 2, 2, 2, 2]])
    assert torch.isinf(crf.nll(emissions[:1], forbidden)).all()


def test_gradients_by_gradcheck():
    crf, emissions, mask, _ = random_case(11, K=3, T=4, B=3)
    tags = torch.randint(0, 3, mask.shape)
    emissions.requires_grad_(True)

    params = [
        crf.transitions.detach().clone().requires_grad_(True),
        crf.start_transitions.detach().clone().requires_grad_(True),
        crf.end_transitions.detach().clone().requires_grad_(True),
    ]
    assert torch.autograd.gradcheck(lambda e: crf.nll(e, tags, mask), (emissions,))

    def with_params(e, trans, start, end):
        weights = {"transitions": trans, "start_transitions": start, "end_transitions": end}
        return torch.func.functional_call(crf, weights, (e, tags, mask), strict=False) * mask.sum()

    assert torch.autograd.gradcheck(with_params, (emissions, *params))


def test_padding_does_not_change_results():
    crf, emissions, mask, lengths = random_case(5, B=4, T=6)
    padded = emissions.clone()
    padded[~mask] = 1e3  # garbage on padding must be ignored
    tags = torch.randint(0, 3, mask.shape)
    assert torch.allclose(crf.nll(padded, tags, mask), crf.nll(emissions, tags, mask))
    assert torch.equal(crf.decode(padded, mask)[0], crf.decode(emissions, mask)[0])


def test_bad_masks_and_shapes_are_refused():
    crf = CRF(3)
    e = torch.randn(2, 3, 3)
    with pytest.raises(UserError, match="at least one token"):
        crf.log_partition(e, torch.tensor([[True, True, True], [False, False, False]]))
    with pytest.raises(UserError, match="left-aligned"):
        crf.log_partition(e, torch.tensor([[True, False, True], [True, True, True]]))
    with pytest.raises(UserError, match=r"\(B, T, 3\)"):
        crf.log_partition(torch.randn(2, 3, 4))
