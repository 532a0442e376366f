"""The weekly digest: what the press said about the compacts, in one email a director reads in two minutes.

Three layers, each testable on its own and each in its own module (this one gathers their
public names, so callers import from `alerts.digest` and need not know the split):

* `build_digest` (alerts/digest_build.py, records in alerts/digest_model.py) turns the
  store into a `Digest`: plain numbers and short cleaned strings, no HTML. Every
  rendering reads the same object, so the plain-text part, the HTML part, the chart and
  the subject cannot disagree.
* `render_text`, `render_html` and `render_chart` (alerts/digest_render.py) present it
  (templates in alerts/templates/digest_email.*). The HTML is a table layout with inline CSS, ≤ 640 px
  wide and without scripts, because that is what Outlook, Gmail and Apple Mail all render;
  Jinja autoescaping covers every string that came from a feed. The chart's numbers are
  repeated as a small table, so a reader with images blocked loses nothing.
* `build_message` (alerts/digest_message.py) assembles the `EmailMessage`:
  multipart/alternative (text, then HTML with the chart inline by Content-ID). Headers
  carry only numbers and settings, never feed text, so a headline with CR/LF in it
  cannot add a header.

The unit of coverage is the *story* (a cluster of syndicated copies and near-duplicates):
twenty outlets running one wire piece are one story carried by twenty outlets, which is why
top stories are ranked by outlets first. Analysts' corrections win over the model
everywhere (`StoredArticle.label`).
"""

from __future__ import annotations

from alerts.digest_build import build_digest, story_date
from alerts.digest_message import address, build_message
from alerts.digest_model import (
    COLORS,
    FRAME_NAMES,
    FRAMES,
    DayVolume,
    Digest,
    Figures,
    FrameShare,
    OutletActivity,
    Period,
    StoryItem,
    StorySection,
    clean_line,
    safe_url,
    unsubscribe_uris,
    zone,
)
from alerts.digest_render import (
    digest_subject,
    plain_reason,
    render_chart,
    render_html,
    render_text,
    summary_line,
)

__all__ = [
    "COLORS",
    "FRAMES",
    "FRAME_NAMES",
    "DayVolume",
    "Digest",
    "Figures",
    "FrameShare",
    "OutletActivity",
    "Period",
    "StoryItem",
    "StorySection",
    "address",
    "build_digest",
    "build_message",
    "clean_line",
    "digest_subject",
    "plain_reason",
    "render_chart",
    "render_html",
    "render_text",
    "safe_url",
    "story_date",
    "summary_line",
    "unsubscribe_uris",
    "zone",
]
