DROP INDEX jobs_by_scene;
