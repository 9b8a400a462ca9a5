-- scenario bulk_insert: rendered by npa-oracle for oracle+oracledb://app:***@db.example.com:1521/?service_name=FREEPDB1

-- Inserting rows into 'products'
INSERT INTO products (id, name, price, active, born, note) VALUES (1, 'Widget', 9.99, 1, NULL, 'it''s; fine');
INSERT INTO products (id, name, price, active, born, note) VALUES (2, 'Gadget', 24.5, 0, TO_DATE('2025-01-02 03:04:05', 'YYYY-MM-DD HH24:MI:SS'), NULL);
