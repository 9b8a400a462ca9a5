-- scenario drop_table: rendered by npa-oracle for oracle+oracledb://app:***@db.example.com:1521/?service_name=FREEPDB1

-- Dropping table 'products'
DROP TABLE products;
-- Dropping table 'audit'
DROP TABLE sales.audit;
