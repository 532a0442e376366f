"""The articles list, one article, and every way analysts correct labels (single, bulk,
undo, confirm in review).
"""

from __future__ import annotations

import secrets
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import (
    RedirectResponse,
    Response,
)

from archive import modelcard, text
from archive.auth import (
    Identity,
    csrf_ok,
    safe_next,
)
from archive.filters import (
    LABEL_PARAMS,
    PARAM_LABELS,
    SHORT_NAMES,
    chips,
    page_size,
    parse_filter,
    query_string,
)
from archive.web_support import MAX_BULK, ArchiveBase, form_text, login_required
from pipeline.store.archive import (
    LABELS,
    Cursor,
    SearchError,
)


class ArticlePages(ArchiveBase):
    """Search and read articles; record analysts' corrections."""

    # ------------------------------------------------------------------ articles
    @login_required
    def index(self, request: Request) -> Response:
        return RedirectResponse("/articles?relevant=yes", status_code=303)

    @login_required
    def articles(self, request: Request) -> Response:
        params = request.query_params
        parsed = parse_filter(params)
        limit = page_size(params)
        cursor = None
        if params.get("cursor"):
            try:
                cursor = Cursor.decode(params["cursor"])
            except ValueError:
                parsed.errors.append("The page link was damaged; showing the first page.")
        feeds = dict(self.queries.feed_choices())
        search_error = ""
        try:
            total = self.queries.count(parsed.filter)
            page = self.queries.page(parsed.filter, limit=limit, cursor=cursor)
        except SearchError:
            search_error = "That search could not be run. Try plain words or a quoted phrase."
            total, page = 0, None
        view_params = dict(parsed.params)
        if limit != 50:
            view_params["limit"] = str(limit)
        return self.render(
            request,
            "articles.html",
            {
                "nav": "articles",
                "parsed": parsed,
                "p": view_params,
                "filter": parsed.filter,
                "page": page,
                "rows": page.rows if page else [],
                "total": total,
                "limit": limit,
                "feeds": feeds,
                "languages": self.queries.languages(),
                "chips": chips(parsed, "/articles", feeds),
                "search_error": search_error,
                "export_query": query_string(parsed.params),
                "thresholds": modelcard.thresholds(self.card()),
                "back": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            },
            400 if search_error else 200,
        )

    @login_required
    def article(self, request: Request) -> Response:
        article_id = int(request.path_params["article_id"])
        article = self.store.article(article_id)
        rows = self.queries.rows_by_id([article_id])
        if article is None or not rows:
            return self.error_page(request, 404, "No such article", f"There is no article #{article_id}.")
        row = rows[0]
        paragraphs, evidence = text.highlight(article.text, article.evidence)
        story = self.queries.story(article.story_id) if article.story_id else None
        feed = next((f for f in self.store.feed_rows() if f["id"] == article.feed_id), None)
        history = list(reversed(self.store.label_history(article_id)))
        return self.render(
            request,
            "article.html",
            {
                "nav": "articles",
                "a": article,
                "row": row,
                "paragraphs": paragraphs,
                "evidence": evidence,
                "story": story,
                "feed": feed,
                "history": history,
                "thresholds": modelcard.thresholds(self.card()),
                "back": safe_next(request.query_params.get("back") or "/articles?relevant=yes"),
            },
        )

    @login_required
    async def label_article(self, request: Request) -> Response:
        """Corrections on one article. "Save" records the labels that changed; "Confirm"
        also records the unchanged ones, marking the article as reviewed by an analyst."""
        form = await request.form(max_files=0, max_fields=30)
        if not csrf_ok(request, form):
            return self.forbidden(request)
        article_id = int(request.path_params["article_id"])
        identity: Identity = request.state.identity
        note = form_text(form, "note")[:1000] or None
        confirm = form_text(form, "action") == "confirm"
        form_id = form_text(form, "form_id")[:40] or secrets.token_urlsafe(12)
        wanted: dict[str, bool] = {}
        for label in LABELS:
            raw = form_text(form, LABEL_PARAMS[label])
            if raw in ("yes", "no"):
                wanted[label] = raw == "yes"

        def apply() -> tuple[list[str], bool]:
            current = self.store.article(article_id)
            if current is None:
                return [], False
            changed = []
            for label, value in wanted.items():
                if value == current.label(label) and not confirm:
                    continue
                if self._record_label(article_id, label, value, identity.name, note, form_id):
                    changed.append(label)
            return changed, True

        changed, found = await run_in_threadpool(apply)
        if not found:
            return self.error_page(request, 404, "No such article", f"There is no article #{article_id}.")
        if changed:
            verb = "Confirmed" if confirm else "Saved"
            self.flash(request, f"{verb}: " + ", ".join(SHORT_NAMES[label] for label in changed) + ".")
        else:
            self.flash(request, "Nothing to change: the labels already had these values.", "info")
        back = form_text(form, "back")
        target = f"/articles/{article_id}" + (f"?back={quote(safe_next(back), safe='')}" if back else "")
        return RedirectResponse(target, status_code=303)

    @login_required
    async def bulk_labels(self, request: Request) -> Response:
        """One label set to yes or no on every selected article (the list's bulk bar)."""
        form = await request.form(max_files=0, max_fields=MAX_BULK + 20)
        if not csrf_ok(request, form):
            return self.forbidden(request)
        identity: Identity = request.state.identity
        back = safe_next(form_text(form, "back") or "/articles?relevant=yes")
        label = PARAM_LABELS.get(form_text(form, "label"), "")
        value_raw = form_text(form, "value")
        ids = sorted({int(v) for v in form.getlist("ids") if isinstance(v, str) and v.isdigit()})[:MAX_BULK]
        if label not in LABELS or value_raw not in ("yes", "no"):
            self.flash(request, "Choose a label and a value to apply.", "error")
            return RedirectResponse(back, status_code=303)
        if not ids:
            self.flash(request, "Select at least one article first.", "error")
            return RedirectResponse(back, status_code=303)
        value = value_raw == "yes"
        note = form_text(form, "note")[:1000] or None
        form_id = form_text(form, "form_id")[:40] or secrets.token_urlsafe(12)

        def apply() -> int:
            done = 0
            for article_id in ids:
                try:
                    if self._record_label(article_id, label, value, identity.name, note, form_id):
                        done += 1
                except ValueError:
                    continue  # deleted meanwhile
            return done

        done = await run_in_threadpool(apply)
        unchanged = len(ids) - done
        message = f"{SHORT_NAMES[label]} set to {value_raw} on {done} article{'s' if done != 1 else ''}"
        if unchanged:
            message += f" ({unchanged} already had it)"
        self.flash(request, message + ".")
        if done:
            request.session["flash"].update({"undo": form_id, "back": back})
        return RedirectResponse(back, status_code=303)

    @login_required
    async def undo_bulk_labels(self, request: Request) -> Response:
        """Take back one bulk edit (the Undo button in its confirmation): the corrections
        that form recorded are removed unless someone changed those labels since."""
        form = await request.form(max_files=0, max_fields=10)
        if not csrf_ok(request, form):
            return self.forbidden(request)
        identity: Identity = request.state.identity
        back = safe_next(form_text(form, "back") or "/articles")
        form_id = form_text(form, "undo")[:40]
        if not form_id:
            self.flash(request, "Nothing to undo.", "error")
            return RedirectResponse(back, status_code=303)
        undone = await run_in_threadpool(self.store.undo_labels, f"ui:{form_id}:", identity.name)
        self.flash(request, f"Undone: {undone} correction{'s' if undone != 1 else ''} taken back.")
        return RedirectResponse(back, status_code=303)

    @login_required
    async def confirm_article(self, request: Request) -> Response:
        """Review queue shortcut: the model was right, record its labels as confirmed."""
        form = await request.form(max_files=0, max_fields=10)
        if not csrf_ok(request, form):
            return self.forbidden(request)
        article_id = int(request.path_params["article_id"])
        identity: Identity = request.state.identity
        form_id = form_text(form, "form_id")[:40] or secrets.token_urlsafe(12)

        def apply() -> bool:
            current = self.store.article(article_id)
            if current is None:
                return False
            for label in LABELS:
                self._record_label(
                    article_id, label, current.label(label), identity.name, "confirmed in review", form_id
                )
            return True

        if not await run_in_threadpool(apply):
            return self.error_page(request, 404, "No such article", f"There is no article #{article_id}.")
        self.flash(request, f"Confirmed the labels of article #{article_id}.")
        return RedirectResponse(safe_next(form_text(form, "back") or "/review"), status_code=303)
