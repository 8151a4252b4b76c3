-- A plain SQL identity model over `hopsim export`'s DuckDB tables.
--
-- The way dbt's Segment package stitches web users: every anonymous id ever
-- seen takes the last user id that an identify call tied it to; an anonymous
-- id no identify ever named stays a profile of its own ("blended user id" =
-- coalesce(user_id, anonymous_id)). No IP, no device attributes, no
-- probabilistic matching: only what identifies says.
--
-- Output: identity_map(identifier_type, identifier, profile_id), the shape
-- `hopsim score RUN_DIR --profiles warehouse.duckdb:identity_map` reads.

CREATE OR REPLACE TABLE identity_map AS
WITH seen AS (
    SELECT DISTINCT anonymous_id FROM identifies WHERE anonymous_id IS NOT NULL
    UNION SELECT DISTINCT anonymous_id FROM tracks WHERE anonymous_id IS NOT NULL
    UNION SELECT DISTINCT anonymous_id FROM pages WHERE anonymous_id IS NOT NULL
    UNION SELECT DISTINCT anonymous_id FROM screens WHERE anonymous_id IS NOT NULL
),
last_user AS (
    SELECT anonymous_id, arg_max(user_id, received_at) AS user_id
    FROM identifies
    WHERE anonymous_id IS NOT NULL AND user_id IS NOT NULL
    GROUP BY anonymous_id
)
SELECT 'anonymousId' AS identifier_type,
       seen.anonymous_id AS identifier,
       coalesce(last_user.user_id, seen.anonymous_id) AS profile_id
FROM seen LEFT JOIN last_user USING (anonymous_id)
UNION ALL
SELECT DISTINCT 'userId', user_id, user_id FROM identifies WHERE user_id IS NOT NULL
ORDER BY profile_id, identifier_type, identifier;
