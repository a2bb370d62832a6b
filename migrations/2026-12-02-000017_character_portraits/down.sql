DROP TABLE character_portraits;
