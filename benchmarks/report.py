"""Render stored results as Markdown tables and plotly charts, in English or Chinese.

Reads JSON only (pandas and plotly, never torch), so the site builds fast and a
page can only show numbers that a run wrote.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from benchmarks import results as results_mod
from benchmarks.experiments import all_experiments
from benchmarks.results import ExperimentResult

MARKER = re.compile(r"<!--\s*bench:(?P<kind>[a-z-]+)(?:\s+(?P<arg>[^\s>]+))?\s*-->")

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "noisy": "⚠ noisy: the median varied by more than {threshold} between rounds, even after one repeat",
        "this_build": "this build",
        "release": "release",
        "no_archive": "No earlier release archived here",
        "no_archive_body": "Release builds download the results of earlier releases into `archive/`; "
        "this build found none, so only its own figures are shown.",
        "not_measured": "Not measured in this build",
        "not_measured_body": "No results for `{exp}` were written by this build. Run `make site`, or "
        "`python -m benchmarks run {exp}`, then rebuild.",
        "failed": "This experiment failed",
        "failed_body": "The run of `{exp}` on {date} failed: {reason}",
        "latest_failed": "The latest run failed; the figures below come from the last good run",
        "skipped": "Skipped on this machine",
        "skipped_body": "`{exp}` was skipped: {reason}",
        "variant": "variant",
        "p50": "p50 (ms)",
        "p90": "p90 (ms)",
        "p99": "p99 (ms)",
        "cv": "CV",
        "throughput": "items/s",
        "speedup": "speedup vs baseline (95% CI)",
        "baseline": "baseline",
        "batch": "batch",
        "seq_len": "seq",
        "quality": "quality",
        "one_time": "one-time cost",
        "what_ran": "what ran",
        "peak_mem": "peak memory (MB)",
        "latency_axis": "p50 latency (ms), bar to p90",
        "speedup_axis": "speedup over PyTorch eager (median of paired rounds)",
        "point": "point",
        "machine": "Machine",
        "cpu": "CPU",
        "isa": "ISA features",
        "cores": "logical cores",
        "memory": "memory (GiB)",
        "os": "OS",
        "python": "Python",
        "packages": "packages",
        "commit": "commit",
        "date": "measured on",
        "threads": "threads",
        "profile": "profile",
        "experiments": "experiments",
        "samples": "samples",
        "accuracy": "test accuracy",
        "agreement_with_fp32": "agreement with FP32",
        "cosine_mean": "mean cosine to FP32",
        "cosine_min": "min cosine to FP32",
        "nn_top1_agreement": "top-1 neighbour agreement",
        "nn_top10_overlap": "top-10 neighbour overlap",
        "top1_agreement": "top-1 agreement with FP32",
        "claim": "Claim {claim}",
        "rule": "Rule",
        "verdict": "Verdict",
        "evidence": "Evidence",
        "holds": "holds",
        "partly": "partly holds",
        "does-not-hold": "does not hold",
        "not-measurable": "not measurable here",
        "verdict_missing": "Verdict pending: {missing} not measured (or not ok) in this build.",
    },
    "zh": {
        "noisy": "⚠ 噪声大:重测一次后,各轮中位数的变异系数仍高于 {threshold}",
        "this_build": "本次构建",
        "release": "版本",
        "no_archive": "此处没有存档的早期版本",
        "no_archive_body": "发布构建会把早期版本的结果下载到 `archive/`;"
        "本次构建没有找到,因此只显示本次构建的数据。",
        "not_measured": "本次构建未测量",
        "not_measured_body": "本次构建没有写出 `{exp}` 的结果。请运行 `make site` 或 "
        "`python -m benchmarks run {exp}` 后重新构建。",
        "failed": "该实验失败",
        "failed_body": "`{exp}` 于 {date} 的运行失败:{reason}",
        "latest_failed": "最近一次运行失败;下列数据来自上一次成功的运行",
        "skipped": "本机跳过",
        "skipped_body": "`{exp}` 已跳过:{reason}",
        "variant": "变体",
        "p50": "p50(毫秒)",
        "p90": "p90(毫秒)",
        "p99": "p99(毫秒)",
        "cv": "变异系数",
        "throughput": "每秒条数",
        "speedup": "相对基线加速比(95% 置信区间)",
        "baseline": "基线",
        "batch": "批大小",
        "seq_len": "序列",
        "quality": "质量",
        "one_time": "一次性开销",
        "what_ran": "实际运行配置",
        "peak_mem": "峰值内存(MB)",
        "latency_axis": "p50 延迟(毫秒),误差线至 p90",
        "speedup_axis": "相对 PyTorch eager 的加速比(成对轮次的中位数)",
        "point": "测量点",
        "machine": "机器",
        "cpu": "CPU",
        "isa": "指令集特性",
        "cores": "逻辑核心数",
        "memory": "内存(GiB)",
        "os": "操作系统",
        "python": "Python",
        "packages": "软件包",
        "commit": "提交",
        "date": "测量时间",
        "threads": "线程数",
        "profile": "配置档",
        "experiments": "实验",
        "samples": "样本数",
        "accuracy": "测试准确率",
        "agreement_with_fp32": "与 FP32 预测一致率",
        "cosine_mean": "与 FP32 的平均余弦相似度",
        "cosine_min": "与 FP32 的最小余弦相似度",
        "nn_top1_agreement": "最近邻 top-1 一致率",
        "nn_top10_overlap": "最近邻 top-10 重合率",
        "top1_agreement": "与 FP32 的 top-1 一致率",
        "claim": "论断 {claim}",
        "rule": "判定规则",
        "verdict": "结论",
        "evidence": "依据",
        "holds": "成立",
        "partly": "部分成立",
        "does-not-hold": "不成立",
        "not-measurable": "本机无法测量",
        "verdict_missing": "结论待定:本次构建没有 {missing} 的有效结果。",
    },
}


class MarkerError(ValueError):
    """A page asks for something that does not exist: the build must fail."""


def _t(lang: str, key: str) -> str:
    return TEXT[lang].get(key, TEXT["en"].get(key, key))


def markdown_table(df: pd.DataFrame) -> str:
    """A plain Markdown table, so the theme styles it like any other."""

    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(c) for c in df.columns) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def fmt(value: float, digits: int = 3) -> str:
    if value >= 10**digits:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def _admonition(kind: str, title: str, body: str) -> str:
    indented = "\n".join(f"    {line}" if line else "" for line in body.splitlines())
    return f'!!! {kind} "{title}"\n\n{indented}\n'


def _point_label(params: dict[str, int], lang: str) -> str:
    return ", ".join(f"{_t(lang, k)} {v}" for k, v in params.items())


# Quality metrics shown in every speed table, next to the figures they qualify.
HEADLINE_METRICS = ("accuracy", "cosine_mean", "nn_top1_agreement", "top1_agreement")


def _metric(key: str, value: float) -> str:
    if key.startswith("cosine"):
        return f"{value:.6f}"
    return f"{value:.2%}"


def _quality_text(metrics: dict[str, Any], lang: str) -> str:
    shown = [k for k in metrics if not k.startswith("n_")]
    return "; ".join(f"{_t(lang, k)} {_metric(k, metrics[k])}" for k in shown)


def _labels(result: ExperimentResult, lang: str) -> dict[str, str]:
    return {v["name"]: v.get(f"label_{lang}", v["label"]) for v in result.config["variants"]}


class Renderer:
    """Turns markers into Markdown; one instance per build, reading one results folder."""

    def __init__(self, directory: Path | None = None, archive: Path | None = None) -> None:
        self.directory = directory or results_mod.results_dir()
        self.archive = archive or results_mod.archive_dir()
        self.experiments = all_experiments()
        self.kinds: dict[str, Callable[[str | None, str], str]] = {
            "table": self.table,
            "chart": self.latency_chart,
            "speedup": self.speedup_chart,
            "quality": self.quality,
            "machine": self.machine,
            "releases": self.releases,
            "verdict": self.verdict,
        }
        self.charts = 0

    # ---- loading ---------------------------------------------------------------------------

    def _load(self, exp: str | None, lang: str) -> tuple[ExperimentResult | None, str]:
        """The result to show, or None, and a notice to print above it."""
        if exp is None or exp not in self.experiments:
            raise MarkerError(f"unknown experiment {exp!r}; known: {', '.join(sorted(self.experiments))}")
        try:
            stored, failure = results_mod.load_experiment(exp, self.directory)
        except results_mod.ResultsError as exc:
            raise MarkerError(str(exc)) from exc
        if stored is None:
            return None, _admonition(
                "warning", _t(lang, "not_measured"), _t(lang, "not_measured_body").format(exp=exp)
            )
        if stored.status == "skipped":
            body = _t(lang, "skipped_body").format(exp=exp, reason=html.escape(stored.reason or ""))
            return None, _admonition("info", _t(lang, "skipped"), body)
        if stored.status == "failed":
            body = _t(lang, "failed_body").format(
                exp=exp, date=stored.started, reason=html.escape(stored.reason or "")
            )
            return None, _admonition("failure", _t(lang, "failed"), body)
        notice = ""
        if failure is not None:
            body = _t(lang, "failed_body").format(
                exp=exp, date=failure.started, reason=html.escape(failure.reason or "")
            )
            notice = _admonition("warning", _t(lang, "latest_failed"), body)
        return stored, notice

    def render(self, markdown: str, lang: str) -> tuple[str, int]:
        """Replace every marker; returns the new Markdown and how many charts it holds."""
        self.charts = 0

        def replace(match: re.Match[str]) -> str:
            kind, arg = match.group("kind"), match.group("arg")
            if kind not in self.kinds:
                raise MarkerError(f"unknown marker kind bench:{kind}; known: {', '.join(self.kinds)}")
            return "\n" + self.kinds[kind](arg, lang) + "\n"

        return MARKER.sub(replace, markdown), self.charts

    # ---- renderers -------------------------------------------------------------------------

    def verdict(self, claim: str | None, lang: str) -> str:
        """The claim's rule, and the outcome its judge computes from this build's results."""
        from benchmarks.verdicts import all_verdicts

        verdicts = all_verdicts()
        if claim not in verdicts:
            raise MarkerError(f"no verdict for claim {claim!r}; known: {', '.join(sorted(verdicts))}")
        check = verdicts[claim]
        rule = check.rule_zh if lang == "zh" else check.rule
        title = _t(lang, "claim").format(claim=claim)
        results: dict[str, ExperimentResult] = {}
        for exp in check.experiments:
            try:
                stored, _ = results_mod.load_experiment(exp, self.directory)
            except results_mod.ResultsError as exc:
                raise MarkerError(str(exc)) from exc
            if stored is not None and stored.status == "ok":
                results[exp] = stored
        missing = [exp for exp in check.experiments if exp not in results]
        body = f"**{_t(lang, 'rule')}:** {rule}\n\n"
        if missing:
            text = _t(lang, "verdict_missing").format(missing=", ".join(f"`{m}`" for m in missing))
            return _admonition("warning", title, body + text)
        finding = check.judge(results)
        evidence = finding.evidence_zh if lang == "zh" else finding.evidence
        kind = {"holds": "success", "partly": "warning", "does-not-hold": "failure"}.get(
            finding.outcome, "info"
        )
        body += f"**{_t(lang, 'verdict')}: {_t(lang, finding.outcome)}.** {_t(lang, 'evidence')}: {evidence}"
        return _admonition(kind, title, body)

    def table(self, exp: str | None, lang: str) -> str:
        result, notice = self._load(exp, lang)
        if result is None:
            return notice
        rows = []
        for point in result.points:
            for name, entry in point["variants"].items():
                lat = entry["latency"]
                speed = entry.get("speedup")
                rows.append(
                    {
                        _t(lang, "point"): _point_label(point["params"], lang),
                        _t(lang, "variant"): f"`{name}`",
                        _t(lang, "p50"): fmt(lat["p50"]),
                        _t(lang, "p90"): fmt(lat["p90"]),
                        _t(lang, "cv"): f"{lat['cv']:.1%}" + (" ⚠" if name in point.get("noisy", []) else ""),
                        _t(lang, "throughput"): fmt(entry["throughput_per_s"]),
                        _t(lang, "speedup"): (
                            f"{speed['median']:.2f}× [{speed['ci_low']:.2f}, {speed['ci_high']:.2f}]"
                            if speed
                            else _t(lang, "baseline")
                        ),
                        **{
                            _t(lang, key): _metric(key, value)
                            for key, value in result.variants[name].get("quality", {}).items()
                            if key in HEADLINE_METRICS
                        },
                    }
                )
        caption = (
            f"{_t(lang, 'threads')}: {result.config['threads']} · {_t(lang, 'profile')}: {result.profile} · "
            f"{_t(lang, 'date')}: {result.started} · `{result.experiment}`"
        )
        table = markdown_table(pd.DataFrame(rows))
        if any(point.get("noisy") for point in result.points):
            threshold = f"{result.config.get('noisy_cv', 0):.0%}"
            caption = _t(lang, "noisy").format(threshold=threshold) + " · " + caption
        return (
            f'{notice}\n<div class="bench-table" markdown>\n\n{table}\n\n</div>\n\n<small>{caption}</small>\n'
        )

    def quality(self, exp: str | None, lang: str) -> str:
        result, notice = self._load(exp, lang)
        if result is None:
            return notice
        rows = []
        for name, label in _labels(result, lang).items():
            variant = result.variants.get(name, {})
            costs = result.one_time_costs.get(name, {})
            info = variant.get("info", {})
            keep = (
                "precision",
                "providers",
                "graph_optimization_level",
                "opset",
                "exporter",
                "cpu_capability",
                "torch_threads",
                "intra_op_threads",
                "parity_max_abs_diff",
            )
            rows.append(
                {
                    _t(lang, "variant"): f"`{name}`: {label}",
                    _t(lang, "quality"): _quality_text(variant.get("quality", {}), lang),
                    _t(lang, "one_time"): "; ".join(f"{k} {v:.2f} s" for k, v in costs.items()),
                    _t(lang, "peak_mem"): fmt(variant.get("memory", {}).get("peak_rss_mb", float("nan"))),
                    _t(lang, "what_ran"): "; ".join(
                        f"{k}={v if not isinstance(v, float) else f'{v:.2g}'}"
                        for k, v in info.items()
                        if k in keep
                    ),
                }
            )
        return notice + "\n" + markdown_table(pd.DataFrame(rows)) + "\n"

    @staticmethod
    def _colour(result: ExperimentResult, name: str) -> str:
        """The same variant keeps the same colour in every chart of an experiment."""
        names = [v["name"] for v in result.config["variants"]]
        palette = ("#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3")
        return palette[names.index(name) % len(palette)]

    def _chart_html(self, fig: go.Figure, name: str) -> str:
        self.charts += 1
        fig.update_layout(
            margin={"l": 60, "r": 20, "t": 30, "b": 60},
            height=420,
            template="plotly_white",
            legend={"orientation": "h", "y": -0.2},
        )
        div = fig.to_html(
            full_html=False,
            include_plotlyjs=False,
            div_id=name,
            config={"displaylogo": False, "responsive": True},
        )
        return f'<div class="bench-chart" markdown="0">\n{div}\n</div>'

    def _grouped_bars(
        self,
        exp: str | None,
        lang: str,
        kind: str,
        value: Callable[[dict[str, Any]], tuple[float, float, float]],
        with_baseline: bool,
    ) -> tuple[ExperimentResult | None, go.Figure | None, str]:
        """One bar per point and variant; ``value(entry)`` gives (height, error below, error above)."""
        result, notice = self._load(exp, lang)
        if result is None:
            return None, None, notice
        fig = go.Figure()
        for name, label in _labels(result, lang).items():
            if name == result.config["baseline"] and not with_baseline:
                continue
            xs = [_point_label(point["params"], lang) for point in result.points]
            ys, below, above = zip(*(value(point["variants"][name]) for point in result.points), strict=True)
            fig.add_bar(
                name=label,
                x=xs,
                y=list(ys),
                marker_color=self._colour(result, name),
                error_y={"type": "data", "array": list(above), "arrayminus": list(below), "symmetric": False},
            )
        fig.update_layout(barmode="group", yaxis_title=_t(lang, f"{kind}_axis"))
        return result, fig, notice

    def latency_chart(self, exp: str | None, lang: str) -> str:
        def p50_to_p90(entry: dict[str, Any]) -> tuple[float, float, float]:
            lat = entry["latency"]
            return lat["p50"], 0.0, lat["p90"] - lat["p50"]

        result, fig, notice = self._grouped_bars(exp, lang, "latency", p50_to_p90, with_baseline=True)
        if result is None or fig is None:
            return notice
        return notice + self._chart_html(fig, f"chart-latency-{result.experiment.replace('/', '-')}-{lang}")

    def speedup_chart(self, exp: str | None, lang: str) -> str:
        def with_ci(entry: dict[str, Any]) -> tuple[float, float, float]:
            speed = entry["speedup"]
            return speed["median"], speed["median"] - speed["ci_low"], speed["ci_high"] - speed["median"]

        result, fig, notice = self._grouped_bars(exp, lang, "speedup", with_ci, with_baseline=False)
        if result is None or fig is None:
            return notice
        fig.add_hline(y=1.0, line_dash="dot")
        return notice + self._chart_html(fig, f"chart-speedup-{result.experiment.replace('/', '-')}-{lang}")

    def machine(self, arg: str | None, lang: str) -> str:
        """The machine card(s) behind the results on disk."""
        if arg is not None:
            raise MarkerError("bench:machine takes no argument")
        cards: dict[str, tuple[dict[str, Any], list[str]]] = {}
        for name in sorted(self.experiments):
            try:
                stored, _ = results_mod.load_experiment(name, self.directory)
            except results_mod.ResultsError as exc:
                raise MarkerError(str(exc)) from exc
            if stored is not None:
                card = stored.machine
                cards.setdefault(card["machine_id"], (card, []))[1].append(f"`{name}`")
        if not cards:
            return _admonition(
                "warning", _t(lang, "not_measured"), _t(lang, "not_measured_body").format(exp="all")
            )
        blocks = []
        for card, names in cards.values():
            rows = [
                (_t(lang, "cpu"), f"{card['cpu']} ({card['arch']})"),
                (_t(lang, "isa"), ", ".join(card["isa"]) or "-"),
                (_t(lang, "cores"), card["logical_cores"]),
                (_t(lang, "memory"), card["memory_gib"]),
                (_t(lang, "os"), card["os"]),
                (_t(lang, "python"), card["python"]),
                (_t(lang, "packages"), ", ".join(f"{k} {v}" for k, v in card["packages"].items())),
                (_t(lang, "commit"), f"`{card['commit']}`"),
                (_t(lang, "date"), card["date"]),
                (_t(lang, "experiments"), ", ".join(names)),
            ]
            blocks.append(
                markdown_table(pd.DataFrame(rows, columns=[_t(lang, "machine"), card["machine_id"]]))
            )
        return "\n\n".join(blocks) + "\n"

    def releases(self, exp: str | None, lang: str) -> str:
        """The experiment across archived releases and this build, speed beside quality."""
        current, notice = self._load(exp, lang)
        assert exp is not None
        versions: list[tuple[str, ExperimentResult]] = []
        if self.archive.is_dir():
            for folder in sorted(p for p in self.archive.iterdir() if p.is_dir()):
                try:
                    stored, _ = results_mod.load_experiment(exp, folder)
                except results_mod.ResultsError as exc:
                    raise MarkerError(f"archived release {folder.name}: {exc}") from exc
                if stored is not None and stored.status == "ok":
                    versions.append((folder.name, stored))
        if current is not None:
            versions.append((_t(lang, "this_build"), current))
        if not versions:
            return notice
        if len(versions) == 1 and current is not None:
            notice += _admonition("info", _t(lang, "no_archive"), _t(lang, "no_archive_body"))
        rows = []
        for version, result in versions:
            for point in result.points:
                for name, entry in point["variants"].items():
                    speed = entry.get("speedup")
                    rows.append(
                        {
                            _t(lang, "release"): version,
                            _t(lang, "point"): _point_label(point["params"], lang),
                            _t(lang, "variant"): f"`{name}`",
                            _t(lang, "p50"): fmt(entry["latency"]["p50"]),
                            _t(lang, "speedup"): f"{speed['median']:.2f}×" if speed else _t(lang, "baseline"),
                            **{
                                _t(lang, key): _metric(key, value)
                                for key, value in result.variants[name].get("quality", {}).items()
                                if key in HEADLINE_METRICS
                            },
                            _t(lang, "commit"): f"`{result.machine.get('commit', '?')}`",
                        }
                    )
        table = markdown_table(pd.DataFrame(rows))
        return f'{notice}\n<div class="bench-table" markdown>\n\n{table}\n\n</div>\n'
