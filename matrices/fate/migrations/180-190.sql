-- FATE 1.8.0 → 1.9.0: job progress is stored per task.
ALTER TABLE t_task ADD COLUMN f_progress INT NULL DEFAULT 0;
