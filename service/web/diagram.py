"""The workflow diagram as inline SVG, laid out by Graphviz from the declared definition."""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from functools import lru_cache

from markupsafe import Markup

from service.kernel.workflow_registry import workflow_for

log = logging.getLogger(__name__)

CURRENT_FILL = "#ffd54f"
NODE_FILL = "#f4f6f8"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def dot_source(subject_type: str, current: str | None, lang: str) -> str:
    wf = workflow_for(subject_type)
    lines = [
        "digraph workflow {",
        '  graph [rankdir=LR, bgcolor="transparent", fontname="DejaVu Sans", nodesep=0.3, ranksep=0.6];',
        f'  node [shape=box, style="rounded,filled", fillcolor="{NODE_FILL}", color="#445566", '
        'fontname="DejaVu Sans", fontsize=14, margin="0.15,0.06"];',
        '  edge [color="#445566", fontname="DejaVu Sans", fontsize=11, fontcolor="#222222"];',
        '  start [shape=point, width=0.15, label=""];',
        f"  start -> {_quote(wf.initial)};",
    ]
    for state in wf.states:
        attrs = [f"label={_quote(wf.state_label(state, lang))}", f"id={_quote('state-' + state)}"]
        if state == current:
            attrs += [f'fillcolor="{CURRENT_FILL}"', "penwidth=3", 'color="#000000"']
        lines.append(f"  {_quote(state)} [{', '.join(attrs)}];")
    for t in wf.transitions.values():
        for source in t.sources:
            lines.append(f"  {_quote(source)} -> {_quote(t.dest)} [label={_quote(t.label.get(lang, t.name))}];")
    lines.append("}")
    return "\n".join(lines)


@lru_cache(maxsize=64)
def _render(subject_type: str, current: str | None, lang: str) -> str | None:
    dot = shutil.which("dot")
    if dot is None:
        log.warning("Graphviz 'dot' is not installed: workflow diagrams are shown as text only")
        return None
    try:
        done = subprocess.run(
            [dot, "-Tsvg"], input=dot_source(subject_type, current, lang).encode("utf-8"),
            capture_output=True, timeout=10, check=True,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        log.warning("Graphviz failed: %s", exc)
        return None
    svg = done.stdout.decode("utf-8")
    svg = svg[svg.index("<svg"):]
    # Let CSS size it; keep the viewBox so it scales on a phone.
    svg = re.sub(r'<svg width="[^"]*" height="[^"]*"', '<svg class="diagram-svg" focusable="false"', svg, count=1)
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    return svg


def diagram_svg(subject_type: str, current: str | None, lang: str) -> Markup | None:
    """The SVG (safe: generated from our own definitions), or None when Graphviz is missing."""
    svg = _render(subject_type, current, lang)
    return Markup(svg) if svg else None  # noqa: S704 - Graphviz escapes the labels it writes
