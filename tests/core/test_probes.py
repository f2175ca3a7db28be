"""The attention coreference score split by what 它 refers to: heads that fetch one kind of noun whatever
the predicate says must show up as a lopsided split, not hide inside an overall share near 0.5."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import core.analysis.probes as probes
from core.model.gpt import GPT


def _fake_forwards(attend_to_animal):
    """Stand-in for one forward per probe: every head at the answer position puts all its weight on the
    noun `attend_to_animal(probe)` names (True: the animal, False: the seat)."""

    def forwards(model: GPT, tok, probe_list):
        L, H = model.cfg.n_layer, model.cfg.n_head
        for probe in probe_list:
            ante, dist = [1], [4]  # token positions of the antecedent and the distractor
            animal, seat = (ante, dist) if probe.antecedent_is_animal else (dist, ante)
            att = np.zeros((L, H, 8, 8))
            att[:, :, 7, (animal if attend_to_animal(probe) else seat)[0]] = 1.0
            yield probe, torch.zeros(model.cfg.vocab_size), att, 7, ante, dist, [5]

    return forwards


@pytest.mark.parametrize(
    ("rule", "overall", "animal", "seat"),
    [
        (lambda probe: True, 0.5, 1.0, 0.0),  # one kind of noun, whatever the predicate says
        (lambda probe: probe.antecedent_is_animal, 1.0, 1.0, 1.0),  # the noun the predicate means
        (lambda probe: not probe.antecedent_is_animal, 0.0, 0.0, 0.0),  # always the wrong one
    ],
    ids=["by-category", "by-meaning", "backwards"],
)
def test_the_attention_score_is_split_by_the_kind_of_antecedent(
    monkeypatch, zh_tokenizer, make_model, rule, overall, animal, seat
):
    world_probes = probes.held_out_probes("zh", 0)
    assert {p.antecedent_is_animal for p in world_probes} == {True, False}
    monkeypatch.setattr(probes, "_probe_forwards", _fake_forwards(rule))
    m = probes.coref_metrics(make_model(vocab_size=zh_tokenizer.vocab_size), zh_tokenizer, world_probes)
    assert m["attn_coref_mean"] == pytest.approx(overall)
    assert m["attn_coref_mean_animal"] == animal
    assert m["attn_coref_mean_seat"] == seat


def test_on_a_real_model_the_two_kinds_add_up_to_the_overall_share(zh_world, zh_tokenizer, make_model):
    m = probes.coref_metrics(make_model(vocab_size=zh_tokenizer.vocab_size), zh_tokenizer, zh_world.probes)
    kinds = [p.antecedent_is_animal for p in zh_world.probes]
    animal_wins = m["attn_coref_mean_animal"] * kinds.count(True)
    seat_wins = m["attn_coref_mean_seat"] * kinds.count(False)
    assert (animal_wins + seat_wins) / len(kinds) == pytest.approx(m["attn_coref_mean"])
