-- scenario drop_index: rendered by npa-oracle for oracle+oracledb://app:***@db.example.com:1521/?service_name=FREEPDB1

-- Dropping index 'ix_products_name'
DROP INDEX ix_products_name;
-- Dropping index 'ix_audit_at'
DROP INDEX sales.ix_audit_at;
