DROP TABLE provider_models;
