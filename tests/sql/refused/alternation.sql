-- Refused by `cep import-sql` (CLI test cli.import_sql_refused): the
-- language has no branching patterns.
SELECT *
FROM Ticker
  MATCH_RECOGNIZE (
    PARTITION BY symbol
    ORDER BY rowtime
    PATTERN (A (B | C) D)
    DEFINE B AS price > A.price, C AS price < A.price
  );
