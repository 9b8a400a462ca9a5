-- scenario execute_sql: rendered by npa-oracle for oracle+oracledb://app:***@db.example.com:1521/?service_name=FREEPDB1

-- Executing SQL: UPDATE products SET price = price * 1.1 WHERE code LIKE 'A%'
UPDATE products SET price = price * 1.1 WHERE code LIKE 'A%';
DELETE FROM products WHERE id IN (1, 2);
-- Executing SQL: SELECT 1
-- Executing SQL: UPDATE products SET name = q'[it's; here]' WHERE id = 3
UPDATE products SET name = q'[it's; here]' WHERE id = 3;
