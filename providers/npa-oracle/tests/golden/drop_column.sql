-- scenario drop_column: rendered by npa-oracle for oracle+oracledb://app:***@db.example.com:1521/?service_name=FREEPDB1

-- Dropping column 'description'
ALTER TABLE products DROP COLUMN description;
-- Dropping column 'at'
ALTER TABLE sales.audit DROP COLUMN at;
