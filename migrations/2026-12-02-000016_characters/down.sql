DROP TABLE characters;
