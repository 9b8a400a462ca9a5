-- scenario drop_constraint: rendered by npa-oracle for oracle+oracledb://app:***@db.example.com:1521/?service_name=FREEPDB1

-- Dropping constraint 'fk_lines_order'
ALTER TABLE order_lines DROP CONSTRAINT fk_lines_order;
-- Dropping constraint 'pk_lookup'
ALTER TABLE lookup DROP CONSTRAINT pk_lookup;
-- Dropping constraint 'uq_products_code'
ALTER TABLE products DROP CONSTRAINT uq_products_code;
-- Dropping constraint 'ck_products_price'
ALTER TABLE products DROP CONSTRAINT ck_products_price;
-- Dropping constraint 'ck_anything'
ALTER TABLE sales.audit DROP CONSTRAINT ck_anything;
