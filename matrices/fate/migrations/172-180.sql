-- FATE 1.7.2 → 1.8.0: model versions move to their own table.
CREATE TABLE IF NOT EXISTS t_model_version (
  f_model_id VARCHAR(100) NOT NULL,
  f_model_version VARCHAR(100) NOT NULL,
  f_create_time BIGINT NULL,
  PRIMARY KEY (f_model_id, f_model_version)
);
