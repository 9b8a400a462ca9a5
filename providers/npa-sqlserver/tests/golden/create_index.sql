-- scenario: create_index
-- provider: mssql (mssql+pyodbc://app:***@db.example.com/shop?driver=ODBC+Driver+18+for+SQL+Server)

-- Creating index 'ix_products_name'
CREATE INDEX ix_products_name ON products (name)
GO
-- Creating index 'ix_products_cat_name'
CREATE INDEX ix_products_cat_name ON products (category_id, name)
GO
-- Creating index 'ux_products_barcode'
DECLARE @filter nvarchar(max), @sql nvarchar(max);
SELECT @filter = STRING_AGG(CAST(QUOTENAME(c.name) + N' IS NOT NULL' AS nvarchar(max)), N' AND ') WITHIN GROUP (ORDER BY c.column_id)
FROM sys.columns AS c
WHERE c.object_id = OBJECT_ID(N'products') AND c.is_nullable = 1 AND c.name IN (N'barcode');
SET @sql = N'CREATE UNIQUE INDEX ux_products_barcode ON products (barcode)' + ISNULL(N' WHERE ' + @filter, N'');
EXEC sp_executesql @sql
GO
-- Creating index 'ux_everything_code'
DECLARE @filter nvarchar(max), @sql nvarchar(max);
SELECT @filter = STRING_AGG(CAST(QUOTENAME(c.name) + N' IS NOT NULL' AS nvarchar(max)), N' AND ') WITHIN GROUP (ORDER BY c.column_id)
FROM sys.columns AS c
WHERE c.object_id = OBJECT_ID(N'sales.everything') AND c.is_nullable = 1 AND c.name IN (N'code', N'day');
SET @sql = N'CREATE UNIQUE INDEX ux_everything_code ON sales.everything (code, day)' + ISNULL(N' WHERE ' + @filter, N'');
EXEC sp_executesql @sql
GO
