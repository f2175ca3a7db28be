"""The lesson's rules without Qt: step order, the article's figures, verdicts on hand-made numbers, the
cloze game's scoring and the held-out pairs it explains."""

from __future__ import annotations

import pytest

from core.lesson import game as G
from core.lesson import steps as S
from core.lesson import verdicts as V
from core.lesson.recorded import recorded_run
from core.lesson.report import measured_text


def test_steps_follow_the_article_and_say_each_claim_in_both_languages():
    assert S.STEP_IDS == ("tokens", "tags", "cloze", "attention", "training", "gpt3", "h800", "distill")
    for step in S.STEPS:
        assert step.claim_zh and step.claim_en and step.section.startswith("§")
        assert step.article_zh and step.article_en
    assert [s.id for s in S.STEPS if s.trains_s > 0] == ["training", "distill"]
    assert S.step("gpt3").article["flops"] == 3.14e23
    with pytest.raises(KeyError):
        S.step("nope")


def test_attention_verdict_separates_direction_from_size():
    article = S.step("attention").article
    assert V.attention({"cat": 0.85, "mat": 0.05}, article).kind == "agrees"
    assert V.attention({"cat": 0.30, "mat": 0.10}, article).kind == "partly"
    assert V.attention({"cat": 0.10, "mat": 0.30}, article).kind == "differs"


def test_cloze_verdict_needs_every_seat_above_every_misfit():
    article = S.step("cloze").article
    probs = {"沙发": 0.2, "床": 0.2, "垫子": 0.01, "电风扇": 1e-9, "灯泡": 1e-8}
    assert V.cloze({"probs": probs}, article).kind == "agrees"
    assert V.cloze({"probs": {**probs, "垫子": 1e-10}}, article).kind == "partly"
    assert V.cloze({"probs": {"沙发": 1e-9}}, article).kind == "cannot"


def test_gpt3_verdict_keeps_the_flops_and_rejects_the_times():
    article = S.step("gpt3").article
    v = V.gpt3({"flops": 3.1428e23, "a100_years": 31.9, "fleet_days": 3.2}, article)
    assert v.kind == "partly" and "32" in v.en and "not 355" in v.en and "not a month" in v.en
    assert V.gpt3({"flops": 3.14e23, "a100_years": 355, "fleet_days": 30}, article).kind == "agrees"


def test_h800_verdict_uses_the_articles_range():
    article = S.step("h800").article
    assert V.h800({"ratio": 1.0}, article).kind == "differs"
    assert V.h800({"ratio": 0.7}, article).kind == "agrees"


def test_training_verdict_names_mechanism_and_scale():
    article = S.step("training").article
    learned = {"steps": 2500, "val_loss": 0.73, "baseline_val_loss": 4.9}
    assert V.training(learned, article).kind == "partly"
    assert V.training({**learned, "steps": 2_000_000}, article).kind == "agrees"
    assert V.training({**learned, "val_loss": 4.85}, article).kind == "differs"


def test_distill_verdict_counts_the_teachers_forwards():
    article = S.step("distill").article
    assert V.distill({"steps_ratio": 0.5, "flops_ratio": 0.8}, article).kind == "agrees"
    assert (
        V.distill({"steps_ratio": 0.5, "flops_ratio": 1.6, "flops_ratio_cached": 0.7}, article).kind == "partly"
    )
    assert V.distill({"steps_ratio": 1.2, "flops_ratio": 2.0}, article).kind == "differs"
    assert V.distill({"steps_ratio": None}, article).kind == "cannot"


class _Score:  # the word-vector panel may hand back cells with a .value
    def __init__(self, value):
        self.value = value


def test_tags_verdict_matches_axes_by_name_and_sign():
    article = S.step("tags").article
    good = {"scores": {"猫": {"动物 ↔ 物品": 0.7, "能吃 ↔ 不能吃": -0.2}, "垫子": {"动物 ↔ 物品": -0.5}}}
    assert V.tags(good, article).kind == "agrees"
    bad = {"scores": {"猫": {"animal ↔ thing": -0.7}, "垫子": {"animal ↔ thing": -0.5}}}
    assert V.tags(bad, article).kind == "partly"
    none = {"scores": {}, "purity": 0.9, "chance": 0.2}
    assert V.tags(none, article).kind == "partly" and "0.90" in V.tags(none, article).en
    assert V.axis_kinds(["动物 ↔ 物品", "能坐 ↔ 不能坐"]) == {"动物 ↔ 物品": "animal"}


def test_a_pick_is_scored_by_its_probability_and_rank():
    ranking = [("草地", 0.5), ("床", 0.3), ("垫子", 0.2)]
    s = G.score_pick(ranking, "床")
    assert (s.rank, s.points, s.best, s.max_points) == (2, 30, "草地", 50)
    miss = G.score_pick(ranking, "灯泡")
    assert (miss.rank, miss.points) == (0, 0)
    with pytest.raises(ValueError):
        G.score_pick([], "床")


def test_the_cat_and_mat_pair_is_held_out_and_said_so():
    assert "垫子" in G.held_out_seats("猫")
    seats = ["垫子", "沙发", "床", "椅子", "凳子"]
    ranking = [("沙发", 0.3), ("床", 0.3), ("椅子", 0.2), ("凳子", 0.15), ("垫子", 0.05)]
    notes = G.held_out_notes(ranking, "猫", seats)
    assert len(notes) == 1 and "垫子" in notes[0][0] and "held out" in notes[0][1]
    assert G.held_out_notes([("垫子", 0.9), ("沙发", 0.1)], "猫", seats) == []
    for r in G.ROUNDS:
        assert "＿" in r.prompt and len(set(r.options)) == len(r.options)


def test_recorded_run_is_the_bundled_build_and_is_reported():
    run = recorded_run("default")
    assert run is not None and run["steps"] > 0 and run["val_loss"] < run["baseline_val_loss"]
    m = {"source": "recorded", **run}
    assert f"{run['steps']:,}" in measured_text("training", m, "en")
    assert recorded_run("no-such-model") is None
