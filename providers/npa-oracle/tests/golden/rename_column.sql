-- scenario rename_column: rendered by npa-oracle for oracle+oracledb://app:***@db.example.com:1521/?service_name=FREEPDB1

-- Renaming column 'name' to 'title'
ALTER TABLE products RENAME COLUMN name TO title;
-- Renaming column 'at' to 'happened_at'
ALTER TABLE sales.audit RENAME COLUMN at TO happened_at;
