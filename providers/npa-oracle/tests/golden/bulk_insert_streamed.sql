-- scenario bulk_insert_streamed: rendered by npa-oracle for oracle+oracledb://app:***@db.example.com:1521/?service_name=FREEPDB1

-- Inserting rows into 'products'
-- bulk_insert into products: rows streamed at run time
