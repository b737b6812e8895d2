"""The figures of ``bench/cast.py``: the generators' answers merged, the verdict on a step, the
report as text."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from cast_tally import bucket_ms

KEEP_UP = 0.97  # of the offered rate acknowledged
MOST_SKIPPED = 0.005  # of the offered inputs skipped by controllers with a full window
QUEUE_P99 = 0.250  # s: a p99 above this is a queue, not a latency


def _percentile(counts: Counter[int], q: float) -> float | None:
    """Milliseconds, the middle of the bucket that holds the q-quantile."""
    total = sum(counts.values())
    if not total:
        return None
    rank, seen = q * (total - 1), 0
    for bucket in sorted(counts):
        seen += counts[bucket]
        if seen > rank:
            return bucket_ms(bucket)
    return None


def summary(answers: list[dict[str, Any]], *, rate: float, duration: float) -> dict[str, Any]:
    """One step's figures from every generator's answer."""
    tally: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    closed: Counter[str] = Counter()
    hists: dict[str, Counter[int]] = {}
    for answer in answers:
        tally.update(answer["tally"])
        errors.update(answer["errors"])
        closed.update(answer["closed_by_server"])
        for name, counts in answer["hists"].items():
            hists.setdefault(name, Counter()).update({int(k): v for k, v in counts.items()})
    window = max(a["offered_s"] for a in answers)
    p = {
        f"{name}_{q}": _percentile(hists.get(name, Counter()), q / 100)
        for name in ("latency", "first", "second", "stored", "ack")
        for q in (50, 99)
    }
    return {
        "rate": rate,
        "duration": duration,
        "offered_s": window,
        "sent": tally["sent"],
        "skipped": tally["skipped"] + tally["send_failed"],
        "late": tally["late"],
        "acked": tally["acked"],
        "received": tally["received"],
        "lost": max(0, tally["acked"] - tally["received"]),
        "gaps": tally["gaps"],
        "repeats": tally["repeats"],
        "statuses": {k[7:]: v for k, v in tally.items() if k.startswith("status ")},
        "errors": dict(errors),
        "closed_by_server": dict(closed),
        "sent_per_s": tally["sent"] / window,
        "acked_per_s": tally["acked"] / window,
        "drain_s": max(a["drain_s"] for a in answers),
        "p50_ms": p["latency_50"],
        "p99_ms": p["latency_99"],
        "max_ms": _percentile(hists.get("latency", Counter()), 1.0),
        "p99_first_ms": p["first_99"],
        "p99_second_ms": p["second_99"],
        "stored_p50_ms": p["stored_50"],
        "stored_p99_ms": p["stored_99"],
        "answer_p50_ms": p["ack_50"],
        "answer_p99_ms": p["ack_99"],
    }


@dataclass
class Verdict:
    kept_up: bool
    why: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, step: dict[str, Any]) -> Verdict:
        """Kept up: the offered rate acknowledged, nothing lost, repeated, refused or closed,
        and p99 not growing over the step (second half within 2x or 20 ms of the first)."""
        why, offered = [], step["rate"] * step["duration"]
        if step["acked_per_s"] < KEEP_UP * step["rate"]:
            why.append(f"acknowledged {step['acked_per_s']:,.0f}/s")
        if step["skipped"] > MOST_SKIPPED * offered:
            why.append(f"{step['skipped']:,} skipped (window full)")
        for name in ("lost", "gaps", "repeats"):
            if step[name]:
                why.append(f"{step[name]:,} {name}")
        if step["errors"]:
            why.append(f"errors {step['errors']}")
        if step["closed_by_server"]:
            why.append(f"sockets closed by the server {step['closed_by_server']}")
        first, second, p99 = step["p99_first_ms"], step["p99_second_ms"], step["p99_ms"]
        if p99 is None or first is None or second is None:
            why.append("no latency")
        elif second > max(2 * first, first + 20) or p99 > QUEUE_P99 * 1e3:
            why.append(f"p99 {first:.1f} -> {second:.1f} ms over the step")
        return cls(not why, why)

    @staticmethod
    def next_rate(rate: float, step: dict[str, Any], *, kept_up: bool) -> float:
        """The next rate down: below what was acknowledged if the server fell short, else a
        quarter less; two significant figures."""
        acked = step["acked_per_s"]
        short = not kept_up and acked < KEEP_UP * rate
        lower = min(rate * 0.7, acked * 0.9) if short else rate * 0.75
        digits = max(0, len(str(int(lower))) - 2)
        return float(round(lower, -digits))

    @staticmethod
    def line(step: dict[str, Any]) -> str:
        verdict = Verdict.of(step)
        return (
            f"{step['part']} {step['route']}: {step['rate']:,.0f}/s offered, "
            f"{step['sent_per_s']:,.0f} sent, {step['acked_per_s']:,.0f} acked, "
            f"lost {step['lost']}, p50 {_ms(step['p50_ms'])} p99 {_ms(step['p99_ms'])} ms, "
            f"server {', '.join(f'{s:.2f}' for s in step['server_share'])} "
            f"gen {step['generator_share']:.2f} busy {step['machine_busy']:.2f} "
            f"rss {', '.join(f'{r:.0f}' for r in step.get('server_rss_mib', []))} MiB: "
            + ("kept up" if verdict.kept_up else "; ".join(verdict.why))
        )


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}" if value < 100 else f"{value:,.0f}"


def _mark(step: dict[str, Any]) -> str:
    for flag in ("sustained", "fixed", "profiled"):
        if step.get(flag):
            return f" ({flag})"
    return ""


def _step_line(s: dict[str, Any]) -> str:
    verdict = Verdict.of(s)
    gc = max((g["max_ms"] for g in s.get("gc", [])), default=0.0)
    return (
        f"{s['part']:4} {s['route']:10} {s['rate']:>9,.0f} {s['sent_per_s']:>8,.0f} "
        f"{s['acked_per_s']:>8,.0f} {s['lost']:>5} {_ms(s['p50_ms']):>7} {_ms(s['p99_ms']):>7} "
        f"{_ms(s['stored_p99_ms']):>7} {_ms(s['answer_p99_ms']):>7} "
        f"{'+'.join(f'{x:.2f}' for x in s['server_share']):>10} {s['server_us']:>8,.0f} "
        f"{s['generator_share']:>5.2f} {s['machine_busy']:>5.2f} {gc:>6,.0f}  "
        + ("kept up" if verdict.kept_up else "; ".join(verdict.why))
        + _mark(s)
    )


def targets(report: dict[str, Any]) -> list[str]:
    """The issue's targets against the figures."""
    steps = [s for s in report["steps"] if s["route"] == "cast ws" and not s.get("profiled")]
    lines = []
    kept = [s for s in steps if s["part"] == "one" and s.get("search") and Verdict.of(s).kept_up]
    if not any(s["part"] == "one" for s in steps):
        pass
    elif not kept:
        lines.append("one replica: no rate tried kept up (--max-steps)")
    else:
        best = max(kept, key=lambda s: s["rate"])
        fast = [s for s in kept if (s["p99_ms"] or 1e9) <= 20]
        lines.append(
            f"one replica sustains {best['rate']:,.0f} inputs/s of the 50,000/s offered "
            f"(p99 {_ms(best['p99_ms'])} ms: target <= 20 ms "
            f"{'met' if (best['p99_ms'] or 1e9) <= 20 else 'missed'}); p99 <= 20 ms up to "
            + (f"{max(s['rate'] for s in fast):,.0f}/s" if fast else "none of the rates tried")
        )
    for s in (s for s in steps if s["part"] == "two"):
        met = "met" if Verdict.of(s).kept_up and (s["p99_ms"] or 1e9) <= 30 else "missed"
        lines.append(
            f"two replicas at {s['rate']:,.0f}/s: p99 {_ms(s['p99_ms'])} ms, "
            f"{s['acked_per_s']:,.0f}/s acknowledged (target p99 <= 30 ms: {met})"
        )
    return lines


def render(report: dict[str, Any]) -> str:
    m, a = report["machine"], report["args"]
    lines = [
        f"Cast, {m['cpus']} CPUs ({m['cpu']}), Python {m['python']}; load average "
        f"{report['load_before']} before, {report['load_after']} after; "
        f"{report['minutes']:.1f} min",
        f"{a['sessions']:,} sessions x (1 receiver + {a['controllers']} controllers), "
        f"{a['generators']} generator process(es), permessage-deflate "
        f"{'on' if a['compression'] else 'off'}, {a['duration']:g} s per step"
        + (f", gc threshold {a['gc_threshold']}" if a.get("gc_threshold") else ""),
        "latency ms: send -> receiver (p50, p99), stored -> receiver (p99), send -> answer "
        "(p99); server: share of a core per server; µs/input: server CPU per input answered; "
        "gen, busy: cores; GC: longest full collection in a server, ms",
        "",
        f"{'part':4} {'route':10} {'offered/s':>9} {'sent/s':>8} {'acked/s':>8} {'lost':>5} "
        f"{'p50':>7} {'p99':>7} {'stored':>7} {'answer':>7} {'server':>10} {'µs/input':>8} "
        f"{'gen':>5} {'busy':>5} {'GC':>6}  verdict",
    ]
    lines += [_step_line(s) for s in report["steps"]]
    idle = report.get("idle") or {}
    if idle:
        shares = "; ".join(
            f"{part}: {'+'.join(f'{x:.2f}' for x in each)}" for part, each in idle.items()
        )
        lines.append(f"idle servers (sockets attached, nothing sent), of a core: {shares}")
    for name, found in (report.get("profiles") or {}).items():
        layers = ", ".join(f"{k} {v:.0%}" for k, v in found["layers"].items() if v >= 0.01)
        lines.append(f"profile, {name}: {layers}")
    hold = report.get("hold")
    if hold:
        grown = hold["rss_after_kib"] - hold["rss_before_kib"]
        lines.append(
            f"idle receivers: {hold['held']:,} of {hold['sessions']:,} attached in "
            f"{hold['attach_s']:.1f} s, {hold['pongs']:,} answered a ping (server gauge "
            f"{hold['gauge_receivers']:,.0f}); server RSS {hold['rss_before_kib'] / 1024:,.1f} "
            f"-> {hold['rss_after_kib'] / 1024:,.1f} MiB: {grown / max(1, hold['held']):,.1f} "
            f"KiB per connection; {hold['rss_released_kib'] / 1024:,.1f} MiB once closed"
        )
    return "\n".join([*lines, "", *targets(report)])
