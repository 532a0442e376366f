"""The review queue puts an analyst's ten minutes where they teach the model most."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from archive.pages_insight import polling_recently
from pipeline.store import Store
from pipeline.store.archive import ArchiveQueries
from tests.factories import add_feed
from tests.test_archive_support import archive_settings, form_data, logged_in, seed

THRESHOLDS = {"relevant": 0.5, "pro_city_inclusion": 0.5, "sovereignty_framing": 0.5}


def test_review_queue_orders_by_uncertainty_then_disagreement_and_leaves_out_confident_noes(
    store: Store,
) -> None:
    feed = add_feed(store, "https://a.example/rss")
    sure_no = seed(store, feed, title="Harbour festival draws record crowds", relevant=0.04)
    knife_edge = seed(store, feed, title="Council debates a shelter budget", relevant=0.51)
    close = seed(store, feed, title="Ministers meet on labour visas", relevant=0.56)
    disputed = seed(
        store,
        feed,
        title="Mayors write to the UN about the migration compact",
        text="A letter from mayors reached the review forum this week, with twelve signatures.",
        relevant=0.57,
    )
    sibling = seed(
        store,
        feed,
        title="Mayors write to the UN about the migration compact",
        text="Twelve city leaders signed a letter on the compact; it was delivered on Monday in New York.",
        relevant=0.9,
    )
    archive = ArchiveQueries(store)
    assert archive.rows_by_id([disputed])[0].story_id == archive.rows_by_id([sibling])[0].story_id

    before = [item.row.id for item in archive.uncertain(THRESHOLDS)]
    assert sure_no not in before
    assert before.index(knife_edge) < before.index(close) < before.index(disputed)

    store.add_label(sibling, "relevant", False, source="ui", who="analyst")
    queue = archive.uncertain(THRESHOLDS)
    order = [item.row.id for item in queue]
    assert sibling not in order  # reviewed: it has left the queue
    assert order.index(knife_edge) < order.index(disputed) < order.index(close)
    assert next(item for item in queue if item.row.id == disputed).disputed
    assert not next(item for item in queue if item.row.id == close).disputed


def test_bulk_edit_starts_with_no_action_chosen_and_can_be_undone(sqlite_store: Store) -> None:
    feed = add_feed(sqlite_store, "https://a.example/rss", name="Harbour Chronicle")
    ids = [seed(sqlite_store, feed, title=f"Sovereignty story {n}", sovereignty=0.9) for n in range(3)]
    already = seed(sqlite_store, feed, title="Corrected before", sovereignty=0.9)
    sqlite_store.add_label(already, "sovereignty_framing", False, source="ui", who="someone else")
    client = logged_in(sqlite_store)
    page = client.get("/articles")
    bulk = form_data(page.text, "/articles/labels")
    for name in ("label", "value"):  # nothing pre-selected: the first, selected option is a prompt
        select = re.search(rf'<select name="{name}"[^>]*>\s*<option value="" selected>', page.text)
        assert select, f"bulk {name} should start unchosen"
    refused = client.post("/articles/labels", data={**bulk, "ids": [str(ids[0])]}, follow_redirects=True)
    assert "Choose a label and a value" in refused.text
    assert sqlite_store.label_history(ids[0]) == []

    page = client.get("/articles")
    bulk = form_data(page.text, "/articles/labels")
    done = client.post(
        "/articles/labels",
        data={**bulk, "ids": [str(i) for i in [*ids, already]], "label": "sov", "value": "no"},
        follow_redirects=True,
    )
    assert "Sovereignty set to no on 3 articles" in done.text
    undo = form_data(done.text, "/articles/labels/undo")
    assert undo["undo"] == bulk["form_id"]
    # Meanwhile another analyst changes one of them again: that later change must stand.
    sqlite_store.add_label(ids[2], "sovereignty_framing", True, source="ui", who="another analyst")
    undone = client.post("/articles/labels/undo", data=undo, follow_redirects=True)
    assert "2 corrections taken back" in undone.text
    assert sqlite_store.label_history(ids[0]) == [] and sqlite_store.label_history(ids[1]) == []
    assert [h["who"] for h in sqlite_store.label_history(ids[2])][-1] == "another analyst"
    assert [h["who"] for h in sqlite_store.label_history(already)] == ["someone else"]


def test_models_page_shows_the_test_sets_caveat_and_per_family_scores_beside_the_baseline(
    sqlite_store: Store, tmp_path: Path
) -> None:
    def scores(p: float, r: float, f1: float, n: int) -> dict[str, float]:
        return {"precision": p, "recall": r, "f1": f1, "support": n}

    card = {
        "model_version": "cw-v2-test",
        "heldout": {
            "description": "Written apart from the training data by a helper who saw only the definitions.",
            "caveat": "Synthetic texts in our own words; real coverage will score lower.",
            "per_label": {"relevant": scores(0.91, 0.87, 0.889, 120)},
            "per_family": {
                "relevant": scores(1.0, 0.93, 0.964, 45),
                "passing_mention": {
                    "precision": 0.0,
                    "support": 77,
                    "positives": 0,
                    "predicted": 8,
                    "accuracy": 0.8961,
                },
            },
            "per_language": {"it": scores(0.8, 0.667, 0.727, 12)},
            "baseline": {
                "per_family": {
                    "relevant": scores(0.5, 0.4, 0.444, 45),
                    "passing_mention": {
                        "precision": 0.0,
                        "support": 77,
                        "positives": 0,
                        "predicted": 61,
                        "accuracy": 0.2078,
                    },
                }
            },
        },
    }
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "model_card.json").write_text(json.dumps(card))
    client = logged_in(sqlite_store, archive_settings(tmp_path))
    page = client.get("/models").text
    assert "Synthetic texts in our own words; real coverage will score lower." in page
    assert "Per family" in page and "passing mention" in page and "0.964" in page and "0.444" in page
    passing = page[page.index("<b>passing mention</b>") :].split("</tr>")[0]
    assert "0.896" in passing and "0.208" in passing and ">8<" in passing and ">61<" in passing
    assert "0.000" not in passing  # precision means nothing where there is nothing to find
    assert "Per language" in page and "0.727" in page


def test_feeds_page_promises_no_next_poll_when_no_scheduler_is_polling(sqlite_store: Store) -> None:
    add_feed(sqlite_store, "https://a.example/rss", name="Harbour Chronicle")
    client = logged_in(sqlite_store)
    idle = client.get("/feeds").text
    assert 'id="no-scheduler"' in idle and "when a scheduler runs" in idle

    now = datetime.now(UTC)
    rows = [{"enabled": True, "interval": 30, "last_attempt_at": now - timedelta(minutes=20)}]
    assert polling_recently(rows, now)
    assert not polling_recently([{**rows[0], "last_attempt_at": now - timedelta(hours=3)}], now)
    assert not polling_recently([{**rows[0], "enabled": False}], now)
