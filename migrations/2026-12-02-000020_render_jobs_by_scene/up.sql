-- A scene's render jobs (its page polls them every second while one runs): found by the scene
-- their input names, newest first, without reading the rest of the queue.
CREATE INDEX jobs_by_scene ON jobs ((input -> 'scene' ->> 'scene_id'), id DESC)
    WHERE input ? 'scene';
