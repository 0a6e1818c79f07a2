-- Supervisors take calls like agents and also watch and step into everyone's calls.
ALTER TABLE agents DROP CONSTRAINT agents_role_check;
ALTER TABLE agents ADD CONSTRAINT agents_role_check CHECK (role IN ('agent', 'supervisor', 'admin'));
