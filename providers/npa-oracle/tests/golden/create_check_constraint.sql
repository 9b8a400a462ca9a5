-- scenario create_check_constraint: rendered by npa-oracle for oracle+oracledb://app:***@db.example.com:1521/?service_name=FREEPDB1

-- Adding check constraint 'ck_products_price'
ALTER TABLE products ADD CONSTRAINT ck_products_price CHECK (price >= 0 AND price < 1e9);
