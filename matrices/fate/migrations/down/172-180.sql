-- Undoes 172-180.sql (FATE 1.8.0 → 1.7.2): model versions leave their own table.
DROP TABLE IF EXISTS t_model_version;
