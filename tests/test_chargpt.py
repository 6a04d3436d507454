import pytest
import torch

from genmodels.chargpt import CharGPT, CharGPTConfig

VOCAB = "\n !abcdefghijklmnopqrstuvwxyz"


def tiny(**overrides):
    torch.manual_seed(0)
    return CharGPT(CharGPTConfig(vocab=VOCAB, block_size=16, n_layer=2, n_head=2, n_embd=16, **overrides))


def test_shapes_and_loss():
    model = tiny()
    ids = torch.randint(len(VOCAB), (3, 10))
    logits, loss = model(ids, ids)
    assert logits.shape == (3, 10, len(VOCAB))
    assert abs(loss.item() - torch.log(torch.tensor(float(len(VOCAB)))).item()) < 0.5  # near uniform at start
    with pytest.raises(ValueError):
        model(torch.zeros(1, 17, dtype=torch.long))


def test_encode_decode_round_trip_and_unknown_characters():
    model = tiny()
    assert model.decode(model.encode("hello world!")) == "hello world!"
    with pytest.raises(ValueError, match="Q"):
        model.encode("Quiet")


def test_causal_positions_do_not_see_the_future():
    model = tiny().eval()
    ids = torch.randint(len(VOCAB), (1, 8))
    changed = ids.clone()
    changed[0, -1] = (changed[0, -1] + 1) % len(VOCAB)
    with torch.no_grad():
        assert torch.allclose(model(ids)[0][0, :-1], model(changed)[0][0, :-1], atol=1e-6)


def test_a_few_steps_lower_the_loss():
    model = tiny()
    text = "to be or not to be that is the question\n" * 4
    ids = torch.tensor(model.encode(text))
    inputs, targets = ids[:-1].unfold(0, 16, 8), ids[1:].unfold(0, 16, 8)
    optimizer = torch.optim.AdamW(model.parameters(), 3e-3)
    first = model(inputs, targets)[1].item()
    for _ in range(30):
        loss = model(inputs, targets)[1]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < first * 0.7


def test_bad_configs():
    with pytest.raises(ValueError):
        CharGPT(CharGPTConfig(vocab="aa"))
    with pytest.raises(ValueError):
        CharGPT(CharGPTConfig(vocab="abc", n_embd=10, n_head=4))
