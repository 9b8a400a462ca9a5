WHENEVER SQLERROR EXIT FAILURE ROLLBACK
SET DEFINE OFF
SET SQLBLANKLINES ON

-- npa-migrations up script for oracle+oracledb://app:***@db.example.com:1521/?service_name=FREEPDB1
-- transaction mode: per-migration

-- 20251119150000_AddUserRoles (up)
-- Creating table 'user_roles'
CREATE TABLE user_roles (
    user_id INT NOT NULL REFERENCES users (id),
    role VARCHAR(50) NOT NULL,
    PRIMARY KEY (user_id, role)
);
INSERT INTO npa_migrations_history (migration_id, checksum, applied_at, execution_ms, product_version, success, steps_done, error, state, direction, statements_done, in_flight) VALUES ('20251119150000_AddUserRoles', 'sha256:<checksum>', sys_extract_utc(SYSTIMESTAMP), 0, '0.0.0', 1, NULL, NULL, 'applied', NULL, NULL, 0);
COMMIT;

-- 20251120090000_SeedProducts (up)
-- Inserting rows into 'products'
INSERT INTO products (id, name, price, description) VALUES (1, 'Widget', 9.99, 'A small widget');
INSERT INTO products (id, name, price, description) VALUES (2, 'Gadget', 24.5, NULL);
INSERT INTO npa_migrations_history (migration_id, checksum, applied_at, execution_ms, product_version, success, steps_done, error, state, direction, statements_done, in_flight) VALUES ('20251120090000_SeedProducts', 'sha256:<checksum>', sys_extract_utc(SYSTIMESTAMP), 0, '0.0.0', 1, NULL, NULL, 'applied', NULL, NULL, 0);
COMMIT;
