DROP TABLE project_picks;
