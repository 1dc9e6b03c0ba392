-- Flink SQL documentation, "Detecting Patterns in Tables", aggregations:
-- a period in which the average price of a ticker stayed below 15, ended
-- by the first row that would lift it to 15 or more (B has no DEFINE, so
-- any row is a B). The documentation's result: two periods of ACME,
-- 10:00:00-10:00:03 (average 14.5) and 10:00:05-10:00:10 (13.5).
CREATE TABLE Ticker (
  symbol  STRING,
  rowtime TIMESTAMP(3),
  price   BIGINT,
  tax     BIGINT,
  WATERMARK FOR rowtime AS rowtime - INTERVAL '1' SECOND
) WITH ('connector' = 'kafka');

SELECT *
FROM Ticker
    MATCH_RECOGNIZE (
        PARTITION BY symbol
        ORDER BY rowtime
        MEASURES
            FIRST(A.rowtime) AS start_tstamp,
            LAST(A.rowtime) AS end_tstamp,
            AVG(A.price) AS avgPrice
        ONE ROW PER MATCH
        AFTER MATCH SKIP PAST LAST ROW
        PATTERN (A+ B)
        DEFINE
            A AS AVG(A.price) < 15
    ) MR;
