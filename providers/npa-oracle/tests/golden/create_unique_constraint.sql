-- scenario create_unique_constraint: rendered by npa-oracle for oracle+oracledb://app:***@db.example.com:1521/?service_name=FREEPDB1

-- Adding unique constraint 'uq_products_code'
ALTER TABLE products ADD CONSTRAINT uq_products_code UNIQUE (code);
