SET NOEXEC OFF;
SET ANSI_WARNINGS ON;
SET ANSI_PADDING ON;
SET ANSI_NULLS ON;
SET ARITHABORT ON;
SET QUOTED_IDENTIFIER ON;
SET NOCOUNT ON;
SET CONCAT_NULL_YIELDS_NULL ON;
SET NUMERIC_ROUNDABORT OFF;
SET XACT_ABORT ON;
GO

-- npa-migrations up script for mssql+pyodbc://app:***@db.example.com/shop?driver=ODBC+Driver+18+for+SQL+Server
-- transaction mode: per-migration

IF OBJECT_ID(N'npa_migrations_history', N'U') IS NULL
CREATE TABLE npa_migrations_history (
	migration_id NVARCHAR(255) NOT NULL, 
	checksum NVARCHAR(100) NOT NULL, 
	applied_at DATETIME2 NOT NULL, 
	execution_ms INTEGER NOT NULL, 
	product_version NVARCHAR(50) NOT NULL, 
	success BIT NOT NULL, 
	steps_done INTEGER NULL, 
	error NVARCHAR(max) NULL, 
	state NVARCHAR(16) NULL, 
	direction NVARCHAR(8) NULL, 
	statements_done INTEGER NULL, 
	in_flight BIT NULL, 
	step_checkpoint NVARCHAR(max) NULL, 
	PRIMARY KEY (migration_id)
)
GO
IF @@ERROR <> 0 SET NOEXEC ON
GO

-- 20251119120000_InitialCreate (up)
BEGIN TRANSACTION
GO
IF @@ERROR <> 0 SET NOEXEC ON
GO
-- Creating table 'users'
-- Creating table 'products'
IF NOT (EXISTS (SELECT * 
FROM npa_migrations_history 
WHERE npa_migrations_history.migration_id IN (N'20251119120000_InitialCreate')))
BEGIN
    EXEC(N'CREATE TABLE users (
	id INTEGER NOT NULL IDENTITY, 
	email NVARCHAR(255) NOT NULL, 
	created_at DATETIME2 NULL DEFAULT CURRENT_TIMESTAMP, 
	PRIMARY KEY (id), 
	UNIQUE (email)
)');
    EXEC(N'CREATE TABLE products (
	id INTEGER NOT NULL IDENTITY, 
	name NVARCHAR(200) NOT NULL, 
	price NUMERIC(10, 2) NOT NULL DEFAULT N''0'', 
	PRIMARY KEY (id)
)');
    EXEC(N'INSERT INTO npa_migrations_history (migration_id, checksum, applied_at, execution_ms, product_version, success, steps_done, error, state, direction, statements_done, in_flight) VALUES (N''20251119120000_InitialCreate'', N''sha256:5be620e454a9c4d102813d0880d50143dc1af3b8c8657aada573295a19bf3ccf'', sysutcdatetime(), 0, N''0.0.0'', 1, NULL, NULL, N''applied'', NULL, NULL, 0)');
END
GO
IF @@ERROR <> 0 SET NOEXEC ON
GO
COMMIT TRANSACTION
GO
IF @@ERROR <> 0 SET NOEXEC ON
GO

-- 20251119143022_AddProductDescription (up)
BEGIN TRANSACTION
GO
IF @@ERROR <> 0 SET NOEXEC ON
GO
-- Adding column 'description'
-- Creating index 'ix_products_description'
IF NOT (EXISTS (SELECT * 
FROM npa_migrations_history 
WHERE npa_migrations_history.migration_id IN (N'20251119143022_AddProductDescription')))
BEGIN
    EXEC(N'ALTER TABLE products ADD description NVARCHAR(500) NULL');
    EXEC(N'CREATE INDEX ix_products_description ON products (description)');
    EXEC(N'INSERT INTO npa_migrations_history (migration_id, checksum, applied_at, execution_ms, product_version, success, steps_done, error, state, direction, statements_done, in_flight) VALUES (N''20251119143022_AddProductDescription'', N''sha256:78e8001f3917458ed12aca39d9afa082eedefa013b5cbe60c6ffe656b3722ad3'', sysutcdatetime(), 0, N''0.0.0'', 1, NULL, NULL, N''applied'', NULL, NULL, 0)');
END
GO
IF @@ERROR <> 0 SET NOEXEC ON
GO
COMMIT TRANSACTION
GO
IF @@ERROR <> 0 SET NOEXEC ON
GO

-- 20251119150000_AddUserRoles (up)
BEGIN TRANSACTION
GO
IF @@ERROR <> 0 SET NOEXEC ON
GO
-- Creating table 'user_roles'
IF NOT (EXISTS (SELECT * 
FROM npa_migrations_history 
WHERE npa_migrations_history.migration_id IN (N'20251119150000_AddUserRoles')))
BEGIN
    EXEC(N'CREATE TABLE user_roles (
    user_id INT NOT NULL REFERENCES users (id),
    role VARCHAR(50) NOT NULL,
    PRIMARY KEY (user_id, role)
)');
    EXEC(N'INSERT INTO npa_migrations_history (migration_id, checksum, applied_at, execution_ms, product_version, success, steps_done, error, state, direction, statements_done, in_flight) VALUES (N''20251119150000_AddUserRoles'', N''sha256:a91997b2ab3cbb518464f3fa6d10c33fa3a2521ca15bf40c2fedbccd3d6cb019'', sysutcdatetime(), 0, N''0.0.0'', 1, NULL, NULL, N''applied'', NULL, NULL, 0)');
END
GO
IF @@ERROR <> 0 SET NOEXEC ON
GO
COMMIT TRANSACTION
GO
IF @@ERROR <> 0 SET NOEXEC ON
GO

-- 20251120090000_SeedProducts (up)
BEGIN TRANSACTION
GO
IF @@ERROR <> 0 SET NOEXEC ON
GO
-- Inserting rows into 'products'
IF NOT (EXISTS (SELECT * 
FROM npa_migrations_history 
WHERE npa_migrations_history.migration_id IN (N'20251120090000_SeedProducts')))
BEGIN
    IF EXISTS (SELECT 1 FROM sys.identity_columns AS c WHERE c.object_id = OBJECT_ID(N'products') AND c.name IN (N'id', N'name', N'price', N'description')) SET IDENTITY_INSERT products ON;
    EXEC(N'INSERT INTO products (id, name, price, description) VALUES (1, N''Widget'', 9.99, N''A small widget'');
INSERT INTO products (id, name, price, description) VALUES (2, N''Gadget'', 24.5, NULL)');
    IF EXISTS (SELECT 1 FROM sys.identity_columns AS c WHERE c.object_id = OBJECT_ID(N'products') AND c.name IN (N'id', N'name', N'price', N'description')) SET IDENTITY_INSERT products OFF;
    EXEC(N'INSERT INTO npa_migrations_history (migration_id, checksum, applied_at, execution_ms, product_version, success, steps_done, error, state, direction, statements_done, in_flight) VALUES (N''20251120090000_SeedProducts'', N''sha256:6016264131a9faf3a276da1b32585f223fa205f1a790f79cef802612432a69ca'', sysutcdatetime(), 0, N''0.0.0'', 1, NULL, NULL, N''applied'', NULL, NULL, 0)');
END
GO
IF @@ERROR <> 0 SET NOEXEC ON
GO
COMMIT TRANSACTION
GO
IF @@ERROR <> 0 SET NOEXEC ON
GO
