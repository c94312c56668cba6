-- Undoes 180-190.sql (FATE 1.9.0 → 1.8.0): task progress is no longer stored per task.
ALTER TABLE t_task DROP COLUMN f_progress;
