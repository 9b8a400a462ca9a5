-- scenario: alter_column_several
-- provider: mssql (mssql+pyodbc://app:***@db.example.com/shop?driver=ODBC+Driver+18+for+SQL+Server)

-- Altering column 'sku' of 'products'
DECLARE @table int = OBJECT_ID(N'products'), @column int, @nullable bit, @type sysname, @length smallint, @collation sysname, @default sysname, @definition nvarchar(max), @rebuild bit, @sql nvarchar(max);
DECLARE @indexes TABLE (name sysname NOT NULL, is_constraint bit NOT NULL, is_clustered bit NOT NULL, ddl nvarchar(max) NOT NULL);
SELECT @column = c.column_id, @nullable = c.is_nullable, @type = TYPE_NAME(c.system_type_id), @length = c.max_length, @collation = c.collation_name
FROM sys.columns AS c
WHERE c.object_id = @table AND c.name = N'sku';
SELECT @default = d.name, @definition = d.definition
FROM sys.default_constraints AS d
WHERE d.parent_object_id = @table AND d.parent_column_id = @column;
SET @sql = CASE WHEN @default IS NOT NULL THEN N'ALTER TABLE products DROP CONSTRAINT ' + QUOTENAME(@default) END;
IF @sql IS NOT NULL EXEC sp_executesql @sql;
SET @rebuild = CASE WHEN @type = N'nvarchar' AND @length BETWEEN 0 AND 160 AND @nullable = 0 THEN 0 ELSE 1 END;
INSERT INTO @indexes (name, is_constraint, is_clustered, ddl)
SELECT i.name, i.is_unique_constraint, CASE WHEN i.type = 1 THEN 1 ELSE 0 END,
    CASE WHEN i.is_unique_constraint = 1
        THEN N'ALTER TABLE products ADD CONSTRAINT ' + QUOTENAME(i.name) + N' UNIQUE' + CASE WHEN i.type = 1 THEN N' CLUSTERED' ELSE N' NONCLUSTERED' END
        ELSE N'CREATE' + CASE WHEN i.is_unique = 1 THEN N' UNIQUE' ELSE N'' END + CASE WHEN i.type = 1 THEN N' CLUSTERED' ELSE N' NONCLUSTERED' END
            + N' INDEX ' + QUOTENAME(i.name) + N' ON products'
    END
    + N' (' + (SELECT STRING_AGG(CAST(QUOTENAME(c.name) + CASE WHEN k.is_descending_key = 1 THEN N' DESC' ELSE N'' END AS nvarchar(max)), N', ') WITHIN GROUP (ORDER BY k.key_ordinal)
         FROM sys.index_columns AS k
         JOIN sys.columns AS c ON c.object_id = k.object_id AND c.column_id = k.column_id
         WHERE k.object_id = i.object_id AND k.index_id = i.index_id AND k.key_ordinal > 0) + N')'
    + ISNULL(N' INCLUDE (' + (SELECT STRING_AGG(CAST(QUOTENAME(c.name) AS nvarchar(max)), N', ') WITHIN GROUP (ORDER BY k.index_column_id)
         FROM sys.index_columns AS k
         JOIN sys.columns AS c ON c.object_id = k.object_id AND c.column_id = k.column_id
         WHERE k.object_id = i.object_id AND k.index_id = i.index_id AND k.is_included_column = 1) + N')', N'')
    + ISNULL(N' WHERE ' + i.filter_definition, N'')
FROM sys.indexes AS i
WHERE @rebuild = 1 AND i.object_id = @table AND i.is_primary_key = 0 AND i.type IN (1, 2) AND i.is_hypothetical = 0
    AND (EXISTS (SELECT 1 FROM sys.index_columns AS k WHERE k.object_id = i.object_id AND k.index_id = i.index_id AND k.column_id = @column)
        OR (i.has_filter = 1 AND CHARINDEX(QUOTENAME(N'sku'), i.filter_definition) > 0));
SELECT @sql = STRING_AGG(CAST(CASE WHEN is_constraint = 1
        THEN N'ALTER TABLE products DROP CONSTRAINT ' + QUOTENAME(name)
        ELSE N'DROP INDEX ' + QUOTENAME(name) + N' ON products' END AS nvarchar(max)), N'; ')
    WITHIN GROUP (ORDER BY is_clustered, name)
FROM @indexes;
IF @sql IS NOT NULL EXEC sp_executesql @sql;
SET @sql = N'ALTER TABLE products ALTER COLUMN sku NVARCHAR(80)' + ISNULL(N' COLLATE ' + @collation, N'') + N' NOT NULL';
EXEC sp_executesql @sql;
SELECT @sql = STRING_AGG(CAST(ddl AS nvarchar(max)), N'; ') WITHIN GROUP (ORDER BY is_clustered DESC, name)
FROM @indexes;
IF @sql IS NOT NULL EXEC sp_executesql @sql
GO
ALTER TABLE products ADD CONSTRAINT [DF_products_sku] DEFAULT N'none' FOR sku
GO
