-- scenario alter_column_default: rendered by npa-oracle for oracle+oracledb://app:***@db.example.com:1521/?service_name=FREEPDB1

-- Altering column 'status' of 'products'
ALTER TABLE products MODIFY (status DEFAULT 'active');
-- Altering column 'qty' of 'products'
ALTER TABLE products MODIFY (qty DEFAULT 1);
-- Altering column 'status' of 'products'
ALTER TABLE products MODIFY (status DEFAULT NULL);
