-- scenario alter_column_type: rendered by npa-oracle for oracle+oracledb://app:***@db.example.com:1521/?service_name=FREEPDB1

-- Altering column 'qty' of 'products'
ALTER TABLE products MODIFY (qty NUMERIC(12, 0));
-- Altering column 'name' of 'products'
ALTER TABLE products MODIFY (name VARCHAR2(300 CHAR));
