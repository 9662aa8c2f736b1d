DROP TABLE IF EXISTS audit_view_slots;
