-- Flink SQL documentation, "Detecting Patterns in Tables", time
-- constraint: a drop of more than 10 in price within one hour. B* takes
-- the rows in between that have not dropped yet; C is the first that has.
-- GOOG: 50 at 09:00, 45 at 09:30, 39 at 09:50: A 50, B 45 (not yet 10
-- below), C 39 (11 below, 50 minutes after A): a match. ACME, every 20
-- minutes from 12:00: 20 17 18 11 14 9: only 20 -> 9 drops more than 10,
-- and 9 comes 1h40 after 20, outside WITHIN: no match.
SELECT *
FROM Ticker
    MATCH_RECOGNIZE(
        PARTITION BY symbol
        ORDER BY rowtime
        MEASURES
            C.rowtime AS dropTime,
            A.price - C.price AS dropDiff
        ONE ROW PER MATCH
        AFTER MATCH SKIP PAST LAST ROW
        PATTERN (A B* C) WITHIN INTERVAL '1' HOUR
        DEFINE
            B AS B.price > A.price - 10,
            C AS C.price < A.price - 10
    )
