-- scenario: alter_column_server_default
-- provider: mssql (mssql+pyodbc://app:***@db.example.com/shop?driver=ODBC+Driver+18+for+SQL+Server)

-- Altering column 'name' of 'products'
DECLARE @default sysname, @sql nvarchar(max);
SELECT @default = d.name
FROM sys.default_constraints AS d
WHERE d.parent_object_id = OBJECT_ID(N'products')
    AND d.parent_column_id = COLUMNPROPERTY(OBJECT_ID(N'products'), N'name', 'ColumnId');
SET @sql = CASE WHEN @default IS NOT NULL THEN N'ALTER TABLE products DROP CONSTRAINT ' + QUOTENAME(@default) END;
IF @sql IS NOT NULL EXEC sp_executesql @sql
GO
ALTER TABLE products ADD CONSTRAINT [DF_products_name] DEFAULT N'n/a' FOR name
GO
-- Altering column 'price' of 'products'
DECLARE @default sysname, @sql nvarchar(max);
SELECT @default = d.name
FROM sys.default_constraints AS d
WHERE d.parent_object_id = OBJECT_ID(N'products')
    AND d.parent_column_id = COLUMNPROPERTY(OBJECT_ID(N'products'), N'price', 'ColumnId');
SET @sql = CASE WHEN @default IS NOT NULL THEN N'ALTER TABLE products DROP CONSTRAINT ' + QUOTENAME(@default) END;
IF @sql IS NOT NULL EXEC sp_executesql @sql
GO
-- Altering column 'created_at' of 'products'
DECLARE @default sysname, @sql nvarchar(max);
SELECT @default = d.name
FROM sys.default_constraints AS d
WHERE d.parent_object_id = OBJECT_ID(N'products')
    AND d.parent_column_id = COLUMNPROPERTY(OBJECT_ID(N'products'), N'created_at', 'ColumnId');
SET @sql = CASE WHEN @default IS NOT NULL THEN N'ALTER TABLE products DROP CONSTRAINT ' + QUOTENAME(@default) END;
IF @sql IS NOT NULL EXEC sp_executesql @sql
GO
ALTER TABLE products ADD CONSTRAINT [DF_products_created_at] DEFAULT SYSUTCDATETIME() FOR created_at
GO
