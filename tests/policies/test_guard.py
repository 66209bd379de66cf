# SPDX-License-Identifier: GPL-2.0-only
"""The guard (policies/guard.py) on the real simulator: every check triggers on a constructed
case and the guard recovers; decision bounds hold on every step of random episodes; shadow
mode installs exactly the fallback's tables; the audit log has one record per step and its
replay is bit-identical; a tampered model is refused through the guard; bad specs are usage
errors."""

from __future__ import annotations

import dataclasses
import json
import math
import re
import shutil
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import packerl
from packerl.app.cli import main as packerl_main
from packerl.app.evaluate import evaluate
from packerl.spaces import EDGE_OBS_FEATURES, GLOBAL_OBS_FEATURES
from policies.audit import read_audit, replay, table_digest
from policies.base import Policy
from policies.baselines import EIGRP, RandomLinkWeights
from policies.factory import check_policy_name, make_policy, policy_slug
from policies.guard import (
    CHECKS,
    FeatureRanges,
    Guard,
    GuardConfig,
    GuardSpecError,
    check_reachability,
    parse_guard_spec,
    record_ranges,
    valid_columns,
)
from policies.runs import TamperedRunError

RUNS = Path(__file__).resolve().parents[2] / "experiments" / "runs"


def _env(steps: int = 12, traffic: str = "udp_low", failures: str | None = None, **kw):
    return gym.make(packerl.ENV_ID, topology="nx-XS", traffic=traffic, link_failures=failures,
                    episode_steps=steps, **kw)


def _run(env, policy: Policy, seed: int, before_step=None):
    """One episode; returns the table the env installed at every step and the actions."""
    obs, _ = env.reset(seed=seed)
    policy.reset()
    tables, actions, observations = [], [], []
    done, t = False, 0
    while not done:
        if before_step is not None:
            before_step(t, policy)
        observations.append(obs)
        action = policy.act(obs)
        actions.append(np.array(action))
        tables.append(env.unwrapped.next_hops_of(action))
        obs, _, terminated, truncated, _ = env.step(action)
        done, t = terminated or truncated, t + 1
    return tables, actions, observations


class Scripted(Policy):
    """EIGRP's routing, with a fault at the chosen steps (the constructed cases)."""

    name = "scripted"

    def __init__(self, env, fault: str, steps: set[int]):
        base = env.unwrapped
        super().__init__(base.max_nodes, base.max_edges, action_format=base.action_format)
        self.inner = EIGRP.from_env(env)
        self.fault, self.steps, self.t = fault, steps, 0

    def reset(self) -> None:
        self.inner.reset()
        self.t = 0

    def act(self, obs):
        t, self.t = self.t, self.t + 1
        action = self.inner.act(obs)
        if t not in self.steps:
            return action
        n = int(obs["node_mask"].sum())
        adj = obs["adjacency"][:n, :n].astype(bool)
        if self.fault == "raise":
            raise RuntimeError("model crashed")
        if self.fault == "sleep":
            time.sleep(0.4)
            return action
        if self.fault == "loop":  # u -> v -> u for a destination z beyond both
            table = self.action_format.to_next_hops(action, obs["adjacency"], n)
            u, v = (int(x) for x in np.argwhere(adj)[0])
            z = next(z for z in range(n) if z not in (u, v))
            table[u, z], table[v, z] = v, u
            return self.next_hop_action(table, obs)
        if self.fault == "link":  # a neighbour rank at the working degree (wraps around)
            out = np.array(action).reshape(self.max_nodes, self.max_nodes)
            out[0, 1] = int(adj[0].sum())
            return out.reshape(-1)
        raise AssertionError(self.fault)


def _guard(env, wrapped: Policy, **options) -> Guard:
    return Guard.from_env(env, wrapped, config=GuardConfig(inner=wrapped.name, **options))


def _sources(guard: Guard) -> str:
    return "".join("w" if r["installed"] == "wrapped" else "f" for r in guard.records)


# ------------------------------------------------------------- each check: trigger, recover


@pytest.mark.parametrize(("fault", "check", "options"), [
    ("loop", "reachability", {}),
    ("link", "links", {}),
    ("raise", "exception", {}),
    ("sleep", "inference", {"budget_ms": 200.0}),
])
def test_a_failed_check_falls_back_and_recovers(fault, check, options):
    env = _env()
    try:
        guard = _guard(env, Scripted(env, fault, {2, 3}), recovery_steps=2, **options)
        tables, _, observations = _run(env, guard, seed=5)
    finally:
        env.close()
    # steps 2, 3 fail; 4 and 5 are healthy in fallback; the wrapped policy routes from 5 on
    assert _sources(guard) == "ww" + "fff" + "w" * 7
    fell = guard.records[2]
    assert not fell["checks"][check]["ok"]
    assert fell["fallback"].startswith(f"check failed: {check} (")
    assert [e["event"] for e in guard.records[5]["events"]] == ["recovered"]
    assert all(r["checks"][check]["ok"] for i, r in enumerate(guard.records) if i not in (2, 3))
    for table, obs in zip(tables, observations):  # the faulty tables were never installed
        n = table.shape[0]
        assert check_reachability(table, obs["adjacency"][:n, :n])["ok"]


def test_a_loop_is_reported_as_a_loop():
    env = _env(steps=3)
    try:
        guard = _guard(env, Scripted(env, "loop", {1}))
        _run(env, guard, seed=1)
    finally:
        env.close()
    reach = guard.records[1]["checks"]["reachability"]
    assert reach["loops"] >= 2 and reach["blackholes"] == 0


class Poison(gym.ObservationWrapper):
    """Telemetry tampered with at the chosen steps (the observation the policy sees)."""

    def __init__(self, env, steps: set[int], key: str, column: int, value: float):
        super().__init__(env)
        self.steps, self.key, self.column, self.value = steps, key, column, value

    def observation(self, obs):
        if self.env.unwrapped._t in self.steps:
            obs = dict(obs)
            arr = np.array(obs[self.key])
            arr[..., self.column] = self.value
            obs[self.key] = arr
        return obs


def test_poisoned_inputs_fall_back_and_recover(tmp_path):
    reference = _env()
    try:  # the reference run: EIGRP on the very scenario, so the clean steps lie in range
        ranges = record_ranges(reference, EIGRP.from_env(reference), episodes=1, seed=7)
    finally:
        reference.close()
    path = ranges.save(tmp_path / "ranges.json")
    assert FeatureRanges.load(path).low["edge_attr"].tolist() == ranges.low["edge_attr"].tolist()
    util = EDGE_OBS_FEATURES.index("link_util")
    env = Poison(_env(), {3, 4}, "edge_attr", util, 1e6)
    try:
        guard = _guard(env, Scripted(env, "none", set()), ranges=str(path), range_margin=0.0,
                       recovery_steps=2)
        _run(env, guard, seed=7)
    finally:
        env.close()
    assert _sources(guard) == "www" + "fff" + "w" * 6
    inputs = guard.records[3]["checks"]["inputs"]
    assert not inputs["ok"] and inputs["outside"][0]["feature"] == "edge_attr.link_util"
    assert all(r["checks"]["inputs"]["ok"] for i, r in enumerate(guard.records) if i not in (3, 4))


def test_degraded_telemetry_falls_back_after_k_steps_and_recovers():
    dropped = GLOBAL_OBS_FEATURES.index("dropped_bytes")
    env = Poison(_env(), {3, 4, 5}, "global", dropped, 1e12)  # drops soar in steps 3-5
    try:
        guard = _guard(env, Scripted(env, "none", set()), max_drop_ratio=0.5, degraded_steps=2,
                       recovery_steps=2)
        _run(env, guard, seed=2)
    finally:
        env.close()
    assert max(r["telemetry"]["drop_ratio"] for i, r in enumerate(guard.records)
               if i not in (3, 4, 5)) < 0.5
    # degraded at 3 and 4 (k = 2) -> fallback at 4; 5 degraded; 6, 7 healthy -> back at 7
    assert _sources(guard) == "wwww" + "fff" + "w" * 5
    assert guard.records[4]["fallback"].startswith("degraded for 2 steps: drop ratio")


def test_circuit_breaker_holds_until_released():
    def operator(t, guard):
        if t == 2:
            guard.trip("operator: maintenance")
        if t == 5:
            guard.release()

    env = _env()
    try:
        guard = _guard(env, Scripted(env, "none", set()), recovery_steps=2)
        _run(env, guard, seed=3, before_step=operator)
    finally:
        env.close()
    # tripped at 2, released before 5; 5 and 6 healthy -> the wrapped policy routes from 6
    assert _sources(guard) == "ww" + "ffff" + "w" * 6
    assert guard.records[2]["fallback"] == "circuit breaker: operator: maintenance"
    assert guard.records[2]["events"][0]["event"] == "breaker_tripped"
    assert guard.records[5]["events"][0]["event"] == "breaker_released"


# --------------------------------------------------------------------- shadow and selection


def test_shadow_mode_installs_exactly_the_fallbacks_tables():
    env = _env(steps=15, traffic="tcp_high", failures="weibull")
    try:
        shadow = make_policy("guard:random_nh,mode=shadow", env, seed=11)
        tables, actions, _ = _run(env, shadow, seed=11)
        ref_tables, ref_actions, _ = _run(env, make_policy("eigrp", env), seed=11)
    finally:
        env.close()
    for a, b in zip(actions, ref_actions):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(tables, ref_tables):
        np.testing.assert_array_equal(a, b)
    assert {r["installed"] for r in shadow.records} == {"fallback"}
    assert all(r["mode"] == "shadow" and r["agreement"] < 1 for r in shadow.records)
    assert all(r["would_change"] == 0 for r in shadow.records)  # random tables loop: refused
    env = _env(steps=6)
    try:
        lw = make_policy("guard:random_lw,mode=shadow", env, seed=1)
        _run(env, lw, seed=1)
    finally:
        env.close()
    assert all(r["would_change"] > 0 and r["installed"] == "fallback" for r in lw.records)


def test_selective_automation_routes_only_the_chosen_destinations():
    env = _env(steps=8)
    try:
        guard = make_policy("guard:random_lw,destinations=0+1", env, seed=4)
        tables, _, observations = _run(env, guard, seed=4)
        eigrp = EIGRP.from_env(env)
        for table, obs in zip(tables, observations):
            n = table.shape[0]
            ref = eigrp.action_format.to_next_hops(eigrp.act(obs), obs["adjacency"], n)
            np.testing.assert_array_equal(table[:, 2:], ref[:, 2:])
        assert any((t[:, :2] != e[:, :2]).any() for t, e in zip(
            tables, [eigrp.action_format.to_next_hops(eigrp.act(o), o["adjacency"], t.shape[0])
                     for o, t in zip(observations, tables)]))
    finally:
        env.close()
    assert set(_sources(guard)) == {"w"}


# ----------------------------------------------------------------- bounds: property test


@settings(max_examples=6, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(max_change=st.sampled_from([0.02, 0.1, 0.3]), window=st.integers(2, 4),
       window_share=st.sampled_from([0.05, 0.2, 0.5]), seed=st.integers(0, 1000),
       failures=st.sampled_from([None, "weibull"]))
def test_decision_bounds_hold_on_every_step(max_change, window, window_share, seed, failures):
    env = _env(steps=15, traffic="udp_medium", failures=failures)
    try:
        wrapped = RandomLinkWeights.from_env(env, seed=seed)  # loop-free, changes a lot
        guard = _guard(env, wrapped, max_change=max_change, window=window,
                       max_window_change=window_share)
        tables, _, observations = _run(env, guard, seed=seed)
        eigrp = EIGRP.from_env(env)
        eigrp.reset()
        first = observations[0]
        prev = eigrp.action_format.to_next_hops(eigrp.act(first), first["adjacency"],
                                                tables[0].shape[0])
    finally:
        env.close()
    n = tables[0].shape[0]
    entries = n * (n - 1)
    step_budget = math.floor(max_change * entries + 1e-9)
    window_budget = math.floor(window_share * entries + 1e-9)
    off = ~np.eye(n, dtype=bool)
    voluntary = []
    for table, obs, rec in zip(tables, observations, guard.records):
        adj = obs["adjacency"][:n, :n]
        assert check_reachability(table, adj)["ok"]  # every installed table delivers
        kept = valid_columns(prev, adj)  # columns that needed no repair
        changes = int(((table != prev) & off)[:, kept].sum())
        voluntary.append(changes)
        assert changes <= step_budget
        assert sum(voluntary[-window:]) <= window_budget
        assert rec["bound"]["voluntary"] == changes
        prev = table
    if min(step_budget, window_budget) >= 1:  # the wrapped policy did route
        assert sum(voluntary) > 0


def test_a_bound_below_one_entry_warns_once_and_changes_nothing_voluntarily():
    env = _env(steps=6, traffic="udp_medium")
    try:
        guard = _guard(env, RandomLinkWeights.from_env(env, seed=3), max_change=0.001)
        with pytest.warns(UserWarning, match=r"max_change=0.001 allows 0 of the \d+ next-hop"
                                             " entries") as caught:
            _run(env, guard, seed=3)
    finally:
        env.close()
    assert len([w for w in caught if "allows 0 of" in str(w.message)]) == 1
    bounded = [r["bound"] for r in guard.records if r["bound"]]
    assert bounded and all(b["voluntary"] == 0 and b["budget"] == 0 for b in bounded)


# ---------------------------------------------------------------------- audit and replay


def test_audit_log_is_complete_and_its_replay_is_bit_identical(tmp_path):
    spec = f"guard:random_lw,max_change=0.2,recovery_steps=2,audit={tmp_path}"
    env = _env(steps=20, traffic="tcp_high", failures="weibull")
    try:
        guard = make_policy(spec, env, seed=21)
        tables, _, _ = _run(env, guard, seed=21)
        guard.close()
    finally:
        env.close()
    log = tmp_path / "seed21.jsonl"
    header, steps = read_audit(log)
    assert header["seed"] == 21 and header["wrapped"] == "random_lw"
    assert len(steps) == 20 and [r["step"] for r in steps] == list(range(20))
    for rec, table in zip(steps, tables):
        assert set(rec["checks"]) == set(CHECKS)
        assert rec["sha256"] == table_digest(table)
        assert ("table" in rec) == (rec["step"] == 0)
    result = replay(tmp_path / header["scenario"], log)
    assert result.identical
    assert len(result.tables) == 20
    for a, b in zip(result.tables, tables):
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes()

    lines = log.read_text().splitlines()  # an edited diff is caught
    rec = json.loads(lines[6])
    u, z = next((u, z) for u in range(3) for z in range(3) if u != z)
    rec["diff"].append([u, z, -1])
    lines[6] = json.dumps(rec)
    edited = tmp_path / "edited.jsonl"
    edited.write_text("\n".join(lines) + "\n")
    assert 5 in replay(tmp_path / header["scenario"], edited).table_mismatches
    edited.write_text("\n".join(lines[:-1]) + "\n")  # an incomplete log is refused
    with pytest.raises(ValueError, match="incomplete"):
        replay(tmp_path / header["scenario"], edited)


def test_guard_through_evaluate_writes_one_log_per_episode(tmp_path):
    spec = f"guard:random_lw,mode=shadow,audit={tmp_path / 'audit'}"
    run = evaluate(spec, "nx-XS", "udp_low", episodes=2, seed=30, out_dir=tmp_path / "res",
                   episode_steps=5, workers=1, progress=False)
    assert run.name.startswith("guard-random_lw-mode-shadow")
    for seed in (30, 31):
        _, steps = read_audit(tmp_path / "audit" / f"seed{seed}.jsonl")
        assert len(steps) == 5
        assert replay(None, tmp_path / "audit" / f"seed{seed}.jsonl").identical


# ------------------------------------------------------------------- provenance and specs


def test_a_tampered_model_is_refused_through_the_guard(tmp_path):
    run = tmp_path / "run"
    shutil.copytree(RUNS / "fieldlines__nx-XS__flex__seed0", run,
                    ignore=shutil.ignore_patterns("tensorboard"))
    env = _env(steps=2)
    try:
        guard = make_policy(f"guard:{run}", env, seed=0)  # intact: loads and acts
        obs, _ = env.reset(seed=0)
        guard.reset()
        assert env.action_space.contains(guard.act(obs))
        data = bytearray((run / "model.zip").read_bytes())
        data[len(data) // 2] ^= 0xFF
        (run / "model.zip").write_bytes(bytes(data))
        with pytest.raises(TamperedRunError, match="does not match the SHA-256"):
            make_policy(f"guard:{run}", env, seed=0)
    finally:
        env.close()


@pytest.mark.parametrize(("spec", "message"), [
    ("guard:", "names no wrapped policy"),
    ("guard:nope", "the wrapped policy: unknown policy `nope`"),
    ("guard:random_nh,speed=3", "unknown option `speed`; valid: ["),
    ("guard:random_nh,max_change=2", "option `max_change=2`: expected a share in [0, 1]"),
    ("guard:random_nh,max_change", "option `max_change` needs a value"),
    ("guard:random_nh,mode=live", "expected one of ['guard', 'shadow']"),
    ("guard:random_nh,destinations=a", "expected node ids joined by `+`"),
    ("guard:random_nh,fallback=mslim", "the fallback must be a registered baseline"),
    ("guard:random_nh,fallback=bgp", "the fallback: unknown policy `bgp`"),
    ("guard:guard:eigrp", "a guard cannot wrap another guard"),
    ("guard:random_nh,ranges=a.json,calibrate=3", "either `ranges`"),
    ("guard:random_nh,max_window_change=0.3", "needs `window` >= 2"),
])
def test_bad_specs_are_refused_with_what_is_accepted(spec, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        check_policy_name(spec)


def test_a_bad_spec_is_a_usage_error_of_packerl_evaluate(tmp_path, capsys):
    code = packerl_main(["evaluate", "--policy", "guard:random_nh,speed=3", "--topology",
                         "nx-XS", "--traffic", "udp_low", "--episodes", "1", "--out",
                         str(tmp_path)])
    assert code == 2
    assert "unknown option `speed`" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_spec_round_trip_and_slug():
    config = parse_guard_spec("guard:random_nh,nodes=3+1,max_change=0.25,window=3,"
                              "max_window_change=0.5")
    assert config.nodes == (1, 3) and config.window == 3
    assert config.options() == {"nodes": [1, 3], "max_change": 0.25, "window": 3,
                                "max_window_change": 0.5}
    slug = policy_slug("guard:random_nh,max_change=0.25,audit=/tmp/a b")
    assert re.fullmatch(r"[A-Za-z0-9._+-]+", slug) and slug.startswith("guard-random_nh-")


@given(options=st.fixed_dictionaries({}, optional={
    "mode": st.sampled_from(["guard", "shadow"]),
    "destinations": st.lists(st.integers(0, 40), min_size=1, max_size=4).map(
        lambda v: "+".join(map(str, v))),
    "max_change": st.floats(0, 1).map(repr), "budget_ms": st.floats(1e-3, 1e4).map(repr),
    "calibrate": st.integers(1, 9).map(str), "audit": st.just("/tmp/a b/c"),
    "recovery_steps": st.integers(1, 9).map(str)}))
def test_spec_of_a_parsed_config_parses_to_the_same_config(options):
    spec = ",".join(["guard:random_nh", *(f"{k}={v}" for k, v in options.items())])
    config = parse_guard_spec(spec)
    assert parse_guard_spec(config.spec()) == config
    assert config.spec().startswith("guard:random_nh")


def test_spec_refuses_a_comma_in_a_value():
    config = dataclasses.replace(parse_guard_spec("guard:random_nh"), audit="/tmp/a,b")
    with pytest.raises(GuardSpecError, match="comma"):
        config.spec()


def test_guard_report_summarises_logs_and_draws_a_timeline(tmp_path):
    from packerl.app.guard_report import audit_summary, load_audit_logs, plot_timeline

    env = _env(steps=10)
    try:
        loop = _guard(env, Scripted(env, "loop", {3}), recovery_steps=2, audit=str(tmp_path))
        _run(env, loop, seed=8)
        loop.close()
    finally:
        env.close()
    logs = load_audit_logs([tmp_path])
    summary = audit_summary(logs)
    assert summary["steps"] == 10 and summary["fallbacks"] == 1 and summary["recoveries"] == 1
    assert summary["fallback_reasons"] == {"reachability": 1}
    assert summary["check_failure_rate"]["reachability"] == pytest.approx(0.1)
    assert summary["wrapped_routed"] == pytest.approx(0.8)  # fallback at 3, 4; back at 5
    assert plot_timeline(*logs[0], tmp_path / "t.png").stat().st_size > 10_000


def test_a_link_weight_model_is_guarded_by_shortest_paths_over_its_weights():
    from packerl.routing import next_hops_from_weights
    from packerl.spaces import graph_of

    env = gym.make(packerl.ENV_ID, topology="nsfnet", traffic="udp_low", episode_steps=3)
    try:
        guard = make_policy(f"guard:{RUNS / 'mslim__nsfnet+geant2__flex__seed0'}", env, seed=0)
        assert guard.wrapped.action_type == "link_weights"
        tables, _, observations = _run(env, guard, seed=2)
    finally:
        env.close()
    assert _sources(guard) == "www"
    n, slots, edge_index = graph_of(observations[-1])  # the model's weights of the last step
    own = next_hops_from_weights(n, edge_index, guard.wrapped._last[slots])
    np.testing.assert_array_equal(tables[-1], own)
