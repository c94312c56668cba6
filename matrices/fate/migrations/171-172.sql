-- FATE 1.7.1 → 1.7.2: index tasks by party for the board's queries.
CREATE INDEX idx_task_party ON t_task (f_party_id);
