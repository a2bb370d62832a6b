-- A character's portraits: each is one batch queued through the ordinary queue, so its
-- pictures are ordinary products in the gallery. The link says whose portrait a batch is and
-- in which style and variation it was asked for.
CREATE TABLE character_portraits (
    batch_id bigint PRIMARY KEY REFERENCES batches (id) ON DELETE CASCADE,
    character_id bigint NOT NULL REFERENCES characters (id) ON DELETE CASCADE,
    style text NOT NULL,
    variation jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX character_portraits_by_character ON character_portraits (character_id, batch_id DESC);
