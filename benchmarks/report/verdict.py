"""A claim's verdict box (``bench:verdict CLAIM``) and the list of every claim (``bench:verdicts``).

The rules and their judges live in ``benchmarks.claims``; this module only writes what a judge
found, around the strings of the results files it quotes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from benchmarks import claims
from benchmarks.report.escape import md_code, md_reason, md_safe, md_text
from benchmarks.report.markup import MarkerError, bench_table, markdown_table, verdict_box
from benchmarks.report.strings import human_names, t

if TYPE_CHECKING:
    from benchmarks.report.page import Renderer

# The admonition each outcome is drawn in.
BOX = {"holds": "success", "partly": "warning", "does-not-hold": "failure"}


def verdict(page: Renderer, claim: str | None, lang: str) -> str:
    """The claim's rule, and the outcome its judge computes from this build's results."""
    finding, missing, skipped = page.finding(claim or "")
    check = claims.all_verdicts()[claim or ""]
    title = t(lang, "claim").format(claim=claim)
    body = f"**{t(lang, 'rule')}:** {human_names(check.rule_zh if lang == 'zh' else check.rule, lang)}\n\n"
    if finding is None and skipped and len(skipped) == len(missing):
        reasons = " ".join(
            t(lang, "verdict_skipped").format(exp=md_code(r.experiment), reason=md_reason(r.reason))
            for r in skipped
        )
        body += f"**{t(lang, 'verdict')}: {t(lang, 'not-measurable')}.** {reasons}"
        return verdict_box("info", title, claim or "", body)
    if finding is None and claim in page.outdated:
        text = t(lang, "verdict_outdated").format(
            missing=", ".join(f"`{m}`" for m in missing), field=md_text(page.outdated[claim])
        )
        return verdict_box("warning", title, claim or "", body + text)
    if finding is None:
        text = t(lang, "verdict_missing").format(missing=", ".join(f"`{m}`" for m in missing))
        return verdict_box("warning", title, claim or "", body + text)
    # Written by the judges around names, labels and info strings from the results files.
    evidence = human_names(md_safe(finding.evidence_zh if lang == "zh" else finding.evidence), lang)
    kind = BOX.get(finding.outcome, "info")
    body = page.latest_run_notices(check.experiments, lang) + body
    body += f"**{t(lang, 'verdict')}: {t(lang, finding.outcome)}.** {t(lang, 'evidence')}: {evidence}"
    return verdict_box(kind, title, claim or "", body)


def verdicts(page: Renderer, arg: str | None, lang: str) -> str:
    """Every claim of the article with the verdict its page computes."""
    if arg is not None:
        raise MarkerError("bench:verdicts takes no argument")
    known = claims.all_verdicts()
    rows = []
    for claim, (text, text_zh, where) in claims.CLAIMS.items():
        if claim in known:
            finding, missing, skipped = page.finding(claim)
            if finding is not None:
                outcome = f"**{t(lang, finding.outcome)}**"
            elif skipped and len(skipped) == len(missing):
                outcome = t(lang, "not-measurable")
            else:
                outcome = t(lang, "figure_missing")
        else:
            outcome = t(lang, "figure_missing")
        rows.append(
            {
                "": claim,
                t(lang, "claim_col"): text_zh if lang == "zh" else text,
                t(lang, "verdict"): outcome,
                t(lang, "page"): f"[{where.removesuffix('.md')}]({where}#claim-{claim.lower()})",
            }
        )
    return bench_table(markdown_table(pd.DataFrame(rows)))
