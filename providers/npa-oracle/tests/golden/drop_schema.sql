-- scenario drop_schema: rendered by npa-oracle for oracle+oracledb://app:***@db.example.com:1521/?service_name=FREEPDB1

-- Dropping schema 'sales'
DROP USER sales;
