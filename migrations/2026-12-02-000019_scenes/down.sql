DROP INDEX products_by_scene;
DROP TABLE scene_nodes;
DROP TABLE scenes;
