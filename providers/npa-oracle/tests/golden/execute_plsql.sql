-- scenario execute_plsql: rendered by npa-oracle for oracle+oracledb://app:***@db.example.com:1521/?service_name=FREEPDB1

-- Executing SQL: DECLARE
DECLARE
  n NUMBER;
BEGIN
  SELECT COUNT(*) INTO n FROM products;
  IF n = 0 THEN
    INSERT INTO products (id, name) VALUES (1, 'x;y');
  END IF;
END;
/
UPDATE products SET name = 'z' WHERE id = 1;
-- Executing SQL: CREATE OR REPLACE TRIGGER trg_products_bi BEFORE INSERT ON p
CREATE OR REPLACE TRIGGER trg_products_bi BEFORE INSERT ON products FOR EACH ROW
BEGIN
  :new.name := TRIM(:new.name);
END;
/
