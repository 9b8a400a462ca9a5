-- scenario rename_table: rendered by npa-oracle for oracle+oracledb://app:***@db.example.com:1521/?service_name=FREEPDB1

-- Renaming table 'products' to 'items'
ALTER TABLE products RENAME TO items;
-- Renaming table 'audit' to 'audit_log'
ALTER TABLE sales.audit RENAME TO audit_log;
