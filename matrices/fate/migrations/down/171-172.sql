-- Undoes 171-172.sql (FATE 1.7.2 → 1.7.1): drop the party index on tasks.
DROP INDEX idx_task_party ON t_task;
