WHENEVER SQLERROR EXIT FAILURE ROLLBACK
SET DEFINE OFF
SET SQLBLANKLINES ON

-- npa-migrations down script for oracle+oracledb://app:***@db.example.com:1521/?service_name=FREEPDB1
-- transaction mode: per-migration

-- 20251120090000_SeedProducts (down)
-- Executing SQL: DELETE FROM products WHERE id IN (1, 2)
DELETE FROM products WHERE id IN (1, 2);
DELETE FROM npa_migrations_history WHERE npa_migrations_history.migration_id = '20251120090000_SeedProducts';
COMMIT;

-- 20251119150000_AddUserRoles (down)
-- Dropping table 'user_roles'
DROP TABLE user_roles;
DELETE FROM npa_migrations_history WHERE npa_migrations_history.migration_id = '20251119150000_AddUserRoles';
COMMIT;

-- 20251119143022_AddProductDescription (down)
-- Dropping index 'ix_products_description'
DROP INDEX ix_products_description;
-- Dropping column 'description'
ALTER TABLE products DROP COLUMN description;
DELETE FROM npa_migrations_history WHERE npa_migrations_history.migration_id = '20251119143022_AddProductDescription';
COMMIT;
