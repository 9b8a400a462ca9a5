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
-- transaction mode: all-in-one

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

BEGIN TRANSACTION
GO
IF @@ERROR <> 0 SET NOEXEC ON
GO

-- 20251119120000_InitialCreate (up)
-- Creating table 'users'
CREATE TABLE users (
	id INTEGER NOT NULL IDENTITY, 
	email NVARCHAR(255) NOT NULL, 
	created_at DATETIME2 NULL DEFAULT CURRENT_TIMESTAMP, 
	PRIMARY KEY (id), 
	UNIQUE (email)
)
GO
IF @@ERROR <> 0 SET NOEXEC ON
GO
-- Creating table 'products'
CREATE TABLE products (
	id INTEGER NOT NULL IDENTITY, 
	name NVARCHAR(200) NOT NULL, 
	price NUMERIC(10, 2) NOT NULL DEFAULT N'0', 
	PRIMARY KEY (id)
)
GO
IF @@ERROR <> 0 SET NOEXEC ON
GO
INSERT INTO npa_migrations_history (migration_id, checksum, applied_at, execution_ms, product_version, success, steps_done, error, state, direction, statements_done, in_flight) VALUES (N'20251119120000_InitialCreate', N'sha256:5be620e454a9c4d102813d0880d50143dc1af3b8c8657aada573295a19bf3ccf', sysutcdatetime(), 0, N'0.0.0', 1, NULL, NULL, N'applied', NULL, NULL, 0)
GO
IF @@ERROR <> 0 SET NOEXEC ON
GO

-- 20251119143022_AddProductDescription (up)
-- Adding column 'description'
ALTER TABLE products ADD description NVARCHAR(500) NULL
GO
IF @@ERROR <> 0 SET NOEXEC ON
GO
-- Creating index 'ix_products_description'
CREATE INDEX ix_products_description ON products (description)
GO
IF @@ERROR <> 0 SET NOEXEC ON
GO
INSERT INTO npa_migrations_history (migration_id, checksum, applied_at, execution_ms, product_version, success, steps_done, error, state, direction, statements_done, in_flight) VALUES (N'20251119143022_AddProductDescription', N'sha256:78e8001f3917458ed12aca39d9afa082eedefa013b5cbe60c6ffe656b3722ad3', sysutcdatetime(), 0, N'0.0.0', 1, NULL, NULL, N'applied', NULL, NULL, 0)
GO
IF @@ERROR <> 0 SET NOEXEC ON
GO

-- 20251119150000_AddUserRoles (up)
-- Creating table 'user_roles'
CREATE TABLE user_roles (
    user_id INT NOT NULL REFERENCES users (id),
    role VARCHAR(50) NOT NULL,
    PRIMARY KEY (user_id, role)
)
GO
IF @@ERROR <> 0 SET NOEXEC ON
GO
INSERT INTO npa_migrations_history (migration_id, checksum, applied_at, execution_ms, product_version, success, steps_done, error, state, direction, statements_done, in_flight) VALUES (N'20251119150000_AddUserRoles', N'sha256:a91997b2ab3cbb518464f3fa6d10c33fa3a2521ca15bf40c2fedbccd3d6cb019', sysutcdatetime(), 0, N'0.0.0', 1, NULL, NULL, N'applied', NULL, NULL, 0)
GO
IF @@ERROR <> 0 SET NOEXEC ON
GO

-- 20251120090000_SeedProducts (up)
-- Inserting rows into 'products'
IF EXISTS (SELECT 1 FROM sys.identity_columns AS c WHERE c.object_id = OBJECT_ID(N'products') AND c.name IN (N'id', N'name', N'price', N'description')) SET IDENTITY_INSERT products ON
GO
IF @@ERROR <> 0 SET NOEXEC ON
GO
INSERT INTO products (id, name, price, description) VALUES (1, N'Widget', 9.99, N'A small widget');
INSERT INTO products (id, name, price, description) VALUES (2, N'Gadget', 24.5, NULL)
GO
IF @@ERROR <> 0 SET NOEXEC ON
GO
IF EXISTS (SELECT 1 FROM sys.identity_columns AS c WHERE c.object_id = OBJECT_ID(N'products') AND c.name IN (N'id', N'name', N'price', N'description')) SET IDENTITY_INSERT products OFF
GO
IF @@ERROR <> 0 SET NOEXEC ON
GO
INSERT INTO npa_migrations_history (migration_id, checksum, applied_at, execution_ms, product_version, success, steps_done, error, state, direction, statements_done, in_flight) VALUES (N'20251120090000_SeedProducts', N'sha256:6016264131a9faf3a276da1b32585f223fa205f1a790f79cef802612432a69ca', sysutcdatetime(), 0, N'0.0.0', 1, NULL, NULL, N'applied', NULL, NULL, 0)
GO
IF @@ERROR <> 0 SET NOEXEC ON
GO

COMMIT TRANSACTION
GO
IF @@ERROR <> 0 SET NOEXEC ON
GO
