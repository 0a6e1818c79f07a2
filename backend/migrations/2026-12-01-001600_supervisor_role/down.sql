UPDATE agents SET role = 'agent' WHERE role = 'supervisor';
ALTER TABLE agents DROP CONSTRAINT agents_role_check;
ALTER TABLE agents ADD CONSTRAINT agents_role_check CHECK (role IN ('agent', 'admin'));
