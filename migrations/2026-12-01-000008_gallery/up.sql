-- The gallery: tags as rows, a trash, search over prompts and negative prompts, an index per
-- sort order across projects, and the person's last gallery view.

-- Trigram matching for substrings and typos (a trusted extension: the database owner may add it).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE tags (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT        NOT NULL CHECK (length(name) BETWEEN 1 AND 64 AND name = btrim(name)),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- One tag per spelling, whatever its case.
CREATE UNIQUE INDEX tags_name_key ON tags (lower(name));
CREATE INDEX tags_name_trgm_idx ON tags USING gin (lower(name) gin_trgm_ops);

CREATE TABLE product_tags (
    product_id  BIGINT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    tag_id      BIGINT NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (product_id, tag_id)
);
CREATE INDEX product_tags_tag_idx ON product_tags (tag_id, product_id);

-- The array column never had a writer; carry over whatever it holds all the same.
INSERT INTO tags (name)
SELECT DISTINCT ON (lower(btrim(t))) btrim(t) FROM products, unnest(tags) AS t
WHERE t IS NOT NULL AND length(btrim(t)) BETWEEN 1 AND 64
ON CONFLICT DO NOTHING;
INSERT INTO product_tags (product_id, tag_id)
SELECT p.id, g.id FROM products p, unnest(p.tags) AS t JOIN tags g ON lower(g.name) = lower(btrim(t))
ON CONFLICT DO NOTHING;
ALTER TABLE products DROP COLUMN tags;

-- In the trash since then; the files stay until the trash is emptied.
ALTER TABLE products ADD COLUMN deleted_at TIMESTAMPTZ;

-- Search: the prompt (weight A) and the negative prompt (weight D). The `simple` configuration
-- lower-cases and splits on punctuation without stemming or stop words, which suits prompts
-- written as comma-separated tags ("masterpiece, red fox, 1girl"): every tag word is a lexeme,
-- none is dropped as a stop word, and no two tags are conflated by a stemmer.
DROP INDEX products_prompt_tsv_idx;
ALTER TABLE products DROP COLUMN prompt_tsv;
ALTER TABLE products ADD COLUMN search_tsv TSVECTOR GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', prompt), 'A') ||
    setweight(to_tsvector('simple', negative_prompt), 'D')
) STORED;
CREATE INDEX products_search_idx ON products USING gin (search_tsv);
CREATE INDEX products_prompt_trgm_idx ON products USING gin (prompt gin_trgm_ops);

-- One index per sort order, over every project (the per-project one exists), trash left out.
CREATE INDEX products_newest_idx ON products (created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX products_rating_idx ON products (COALESCE(rating, -1) DESC, created_at DESC, id DESC)
    WHERE deleted_at IS NULL;
CREATE INDEX products_project_rating_idx
    ON products (project_id, COALESCE(rating, -1) DESC, created_at DESC, id DESC)
    WHERE deleted_at IS NULL;
CREATE INDEX products_seed_idx ON products (seed) WHERE seed IS NOT NULL;
CREATE INDEX products_trash_idx ON products (deleted_at) WHERE deleted_at IS NOT NULL;
CREATE INDEX products_model_idx ON products (model, created_at DESC, id DESC) WHERE deleted_at IS NULL;

-- The person's last gallery view (one row), restored on the next visit.
CREATE TABLE gallery_settings (
    id          BOOLEAN PRIMARY KEY DEFAULT true CHECK (id),
    query       TEXT        NOT NULL DEFAULT '' CHECK (length(query) <= 4000),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
