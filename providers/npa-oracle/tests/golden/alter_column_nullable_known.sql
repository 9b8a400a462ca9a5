-- scenario alter_column_nullable_known: rendered by npa-oracle for oracle+oracledb://app:***@db.example.com:1521/?service_name=FREEPDB1

-- Altering column 'name' of 'products'
ALTER TABLE products MODIFY (name NOT NULL);
-- Altering column 'code' of 'products'
ALTER TABLE products MODIFY (code NULL);
-- Altering column 'title' of 'products'
