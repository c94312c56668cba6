-- Undoes 170-171.sql (FATE 1.7.1 → 1.7.0): the job table loses the initiator role.
ALTER TABLE t_job DROP COLUMN f_initiator_role;
