DROP TABLE provider_rate_state;
