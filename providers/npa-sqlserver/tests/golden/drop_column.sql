-- scenario: drop_column
-- provider: mssql (mssql+pyodbc://app:***@db.example.com/shop?driver=ODBC+Driver+18+for+SQL+Server)

-- Dropping column 'weight'
DECLARE @default sysname, @sql nvarchar(max);
SELECT @default = d.name
FROM sys.default_constraints AS d
WHERE d.parent_object_id = OBJECT_ID(N'products')
    AND d.parent_column_id = COLUMNPROPERTY(OBJECT_ID(N'products'), N'weight', 'ColumnId');
SET @sql = CASE WHEN @default IS NOT NULL THEN N'ALTER TABLE products DROP CONSTRAINT ' + QUOTENAME(@default) END;
IF @sql IS NOT NULL EXEC sp_executesql @sql
GO
ALTER TABLE products DROP COLUMN weight
GO
-- Dropping column 'payload'
DECLARE @default sysname, @sql nvarchar(max);
SELECT @default = d.name
FROM sys.default_constraints AS d
WHERE d.parent_object_id = OBJECT_ID(N'sales.everything')
    AND d.parent_column_id = COLUMNPROPERTY(OBJECT_ID(N'sales.everything'), N'payload', 'ColumnId');
SET @sql = CASE WHEN @default IS NOT NULL THEN N'ALTER TABLE sales.everything DROP CONSTRAINT ' + QUOTENAME(@default) END;
IF @sql IS NOT NULL EXEC sp_executesql @sql
GO
ALTER TABLE sales.everything DROP COLUMN payload
GO
