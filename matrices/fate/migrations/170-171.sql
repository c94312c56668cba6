-- FATE 1.7.0 → 1.7.1: job table records the initiator role.
ALTER TABLE t_job ADD COLUMN f_initiator_role VARCHAR(50) NULL;
