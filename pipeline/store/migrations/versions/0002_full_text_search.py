"""full-text search over article titles and text; indexes for the archive

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 19:00:00

SQLite: an FTS5 external-content table `articles_fts` over articles(title, text), kept in
sync by triggers (the store never has to remember it), with diacritics folded so `cafe`
finds `Café`. PostgreSQL: a stored generated `tsvector` column with a GIN index. The
'simple' configuration is used on purpose: the archive is multilingual, and an English
stemmer would mangle French, German and Spanish words; 'simple' also matches what the
SQLite tokenizer does (no stemming), so both backends find the same articles.

Diacritics are folded on PostgreSQL too, without the `unaccent` extension (which needs
privileges and is not IMMUTABLE): `translate()` maps accented Latin letters to their base
letter, the same folding `pipeline.store.search_syntax` applies to the query.

Two composite indexes serve the archive's "latest classification / latest correction per
article" joins: (article_id, id) makes "newest row for this article" one index probe on
both backends, whatever the planner's statistics say (without it, PostgreSQL can pick a
backward primary-key scan per article, which is quadratic on a large archive).

Long texts are cut before indexing because PostgreSQL refuses a tsvector over 1 MB, and an
index that fails would make the article's INSERT fail with it.
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SQLITE_UP = [
    """
    CREATE VIRTUAL TABLE IF NOT EXISTS articles_fts USING fts5(
        title, text,
        content='articles', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2'
    )
    """,
    """
    CREATE TRIGGER IF NOT EXISTS articles_fts_ai AFTER INSERT ON articles BEGIN
        INSERT INTO articles_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
    END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS articles_fts_ad AFTER DELETE ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, text)
        VALUES ('delete', old.id, old.title, old.text);
    END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS articles_fts_au AFTER UPDATE OF title, text ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, text)
        VALUES ('delete', old.id, old.title, old.text);
        INSERT INTO articles_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
    END
    """,
    # Index whatever was stored before this migration.
    "INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')",
]

# Both backends: the archive reads "the newest row per article" from these tables.
COMMON_UP = [
    "CREATE INDEX IF NOT EXISTS ix_classifications_article_latest ON classifications (article_id, id)",
    "CREATE INDEX IF NOT EXISTS ix_labels_article_label_latest ON labels (article_id, label, id)",
]
COMMON_DOWN = [
    "DROP INDEX IF EXISTS ix_labels_article_label_latest",
    "DROP INDEX IF EXISTS ix_classifications_article_latest",
]

SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS articles_fts_au",
    "DROP TRIGGER IF EXISTS articles_fts_ad",
    "DROP TRIGGER IF EXISTS articles_fts_ai",
    "DROP TABLE IF EXISTS articles_fts",
]

# Accented Latin letters (lower case) and their base letters; must stay equal to
# pipeline.store.search_syntax.FOLD_FROM / FOLD_TO (a test checks it).
FOLD_FROM = "àáâãäåçèéêëìíîïñòóôõöùúûüýÿāăąćĉċčďēĕėęěĝğġģĥĩīĭįĵķĺļľńņňōŏőŕŗřśŝşšţťũūŭůűųŵŷźżžſơưǎǐǒǔǖǘǚǜǟǡǧǩǫǭǰǵǹǻȁȃȅȇȉȋȍȏȑȓȕȗșțȟȧȩȫȭȯȱȳ"
FOLD_TO = "aaaaaaceeeeiiiinooooouuuuyyaaaccccdeeeeegggghiiiijklllnnnooorrrssssttuuuuuuwyzzzsouaiouuuuuaagkoojgnaaaeeiioorruusthaeooooy"


def _folded(expr: str) -> str:
    return f"translate(lower({expr}), '{FOLD_FROM}', '{FOLD_TO}')"


POSTGRES_UP = [
    f"""
    ALTER TABLE articles ADD COLUMN IF NOT EXISTS search_vector tsvector
    GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig, {_folded("left(coalesce(title, ''), 2000)")}), 'A')
        || setweight(to_tsvector('simple'::regconfig, {_folded("left(coalesce(text, ''), 100000)")}), 'B')
    ) STORED
    """,
    "CREATE INDEX IF NOT EXISTS ix_articles_search_vector ON articles USING GIN (search_vector)",
]

POSTGRES_DOWN = [
    "DROP INDEX IF EXISTS ix_articles_search_vector",
    "ALTER TABLE articles DROP COLUMN IF EXISTS search_vector",
]


def _run(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    _run(COMMON_UP)
    if dialect == "sqlite":
        _run(SQLITE_UP)
    elif dialect == "postgresql":
        _run(POSTGRES_UP)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(SQLITE_DOWN)
    elif dialect == "postgresql":
        _run(POSTGRES_DOWN)
    _run(COMMON_DOWN)
