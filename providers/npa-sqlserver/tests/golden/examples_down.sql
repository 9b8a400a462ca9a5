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

-- npa-migrations down script for mssql+pyodbc://app:***@db.example.com/shop?driver=ODBC+Driver+18+for+SQL+Server
-- transaction mode: per-migration

-- 20251120090000_SeedProducts (down)
BEGIN TRANSACTION
GO
IF @@ERROR <> 0 SET NOEXEC ON
GO
-- Executing SQL: DELETE FROM products WHERE id IN (1, 2)
DELETE FROM products WHERE id IN (1, 2)
GO
IF @@ERROR <> 0 SET NOEXEC ON
GO
DELETE FROM npa_migrations_history WHERE npa_migrations_history.migration_id = N'20251120090000_SeedProducts'
GO
IF @@ERROR <> 0 SET NOEXEC ON
GO
COMMIT TRANSACTION
GO
IF @@ERROR <> 0 SET NOEXEC ON
GO

-- 20251119150000_AddUserRoles (down)
BEGIN TRANSACTION
GO
IF @@ERROR <> 0 SET NOEXEC ON
GO
-- Dropping table 'user_roles'
DROP TABLE user_roles
GO
IF @@ERROR <> 0 SET NOEXEC ON
GO
DELETE FROM npa_migrations_history WHERE npa_migrations_history.migration_id = N'20251119150000_AddUserRoles'
GO
IF @@ERROR <> 0 SET NOEXEC ON
GO
COMMIT TRANSACTION
GO
IF @@ERROR <> 0 SET NOEXEC ON
GO

-- 20251119143022_AddProductDescription (down)
BEGIN TRANSACTION
GO
IF @@ERROR <> 0 SET NOEXEC ON
GO
-- Dropping index 'ix_products_description'
DROP INDEX ix_products_description ON products
GO
IF @@ERROR <> 0 SET NOEXEC ON
GO
-- Dropping column 'description'
DECLARE @default sysname, @sql nvarchar(max);
SELECT @default = d.name
FROM sys.default_constraints AS d
WHERE d.parent_object_id = OBJECT_ID(N'products')
    AND d.parent_column_id = COLUMNPROPERTY(OBJECT_ID(N'products'), N'description', 'ColumnId');
SET @sql = CASE WHEN @default IS NOT NULL THEN N'ALTER TABLE products DROP CONSTRAINT ' + QUOTENAME(@default) END;
IF @sql IS NOT NULL EXEC sp_executesql @sql
GO
IF @@ERROR <> 0 SET NOEXEC ON
GO
ALTER TABLE products DROP COLUMN description
GO
IF @@ERROR <> 0 SET NOEXEC ON
GO
DELETE FROM npa_migrations_history WHERE npa_migrations_history.migration_id = N'20251119143022_AddProductDescription'
GO
IF @@ERROR <> 0 SET NOEXEC ON
GO
COMMIT TRANSACTION
GO
IF @@ERROR <> 0 SET NOEXEC ON
GO
