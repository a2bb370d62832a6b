DROP TABLE queue_settings;
DROP TABLE products;
DROP TABLE jobs;
DROP TABLE batches;
