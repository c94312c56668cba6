-- FATE 1.9.0 → 1.10.0: provider information on tasks.
ALTER TABLE t_task ADD COLUMN f_provider_info TEXT NULL;
