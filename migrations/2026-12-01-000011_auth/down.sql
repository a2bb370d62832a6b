DROP TABLE auth_sessions;
DROP TABLE auth_password;
