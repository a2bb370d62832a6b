DROP TABLE provider_credentials;
