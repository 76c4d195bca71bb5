-- Monthly tallies for the dashboard and the reports, kept by triggers in the
-- same transaction as each change, so that they are exact whichever path
-- wrote the row (a use case, an import, a bulk load). A figure is a count
-- `n` and a sum `total` for a node (a community, or a grid for visits) and a
-- month in Beijing time. `store::tallies::recount` computes the same from
-- the rows themselves; a test compares the two after random changes.
--
-- cases_filed:KIND       n cases filed (month of filing)
-- cases_accepted:KIND    n accepted, total ms from filing to acceptance
-- cases_resolved:KIND    n resolved, total ms from filing to resolution
-- cases_rated:KIND       n rated, total of the ratings (1-5)
-- visits                 n visits (node: the grid; month of the visit)
-- points_issued          n transfers out of the pool, total points
-- points_redeemed        n transfers into the shop, total points
CREATE TABLE tallies (
    node_id INTEGER NOT NULL REFERENCES org_nodes (id),
    month TEXT NOT NULL,
    figure TEXT NOT NULL,
    n INTEGER NOT NULL,
    total INTEGER NOT NULL,
    PRIMARY KEY (node_id, month, figure)
) WITHOUT ROWID;

-- cases: filing, and each of acceptance, resolution and rating as it is set
-- (or cleared, or moved: a reopened case is resolved again later)
CREATE TRIGGER tallies_cases_insert AFTER INSERT ON cases
BEGIN
    INSERT INTO tallies (node_id, month, figure, n, total)
    VALUES (NEW.community_id, strftime('%Y-%m', NEW.created_at / 1000 + 28800, 'unixepoch'),
            'cases_filed:' || NEW.kind, 1, 0)
    ON CONFLICT (node_id, month, figure) DO UPDATE SET n = n + 1;
    INSERT INTO tallies (node_id, month, figure, n, total)
    SELECT NEW.community_id, strftime('%Y-%m', NEW.accepted_at / 1000 + 28800, 'unixepoch'),
           'cases_accepted:' || NEW.kind, 1, NEW.accepted_at - NEW.created_at
    WHERE NEW.accepted_at IS NOT NULL
    ON CONFLICT (node_id, month, figure) DO UPDATE SET n = n + 1, total = total + excluded.total;
    INSERT INTO tallies (node_id, month, figure, n, total)
    SELECT NEW.community_id, strftime('%Y-%m', NEW.resolved_at / 1000 + 28800, 'unixepoch'),
           'cases_resolved:' || NEW.kind, 1, NEW.resolved_at - NEW.created_at
    WHERE NEW.resolved_at IS NOT NULL
    ON CONFLICT (node_id, month, figure) DO UPDATE SET n = n + 1, total = total + excluded.total;
    INSERT INTO tallies (node_id, month, figure, n, total)
    SELECT NEW.community_id, strftime('%Y-%m', NEW.rated_at / 1000 + 28800, 'unixepoch'),
           'cases_rated:' || NEW.kind, 1, NEW.rating
    WHERE NEW.rated_at IS NOT NULL AND NEW.rating IS NOT NULL
    ON CONFLICT (node_id, month, figure) DO UPDATE SET n = n + 1, total = total + excluded.total;
END;

CREATE TRIGGER tallies_cases_accepted AFTER UPDATE OF accepted_at ON cases
WHEN OLD.accepted_at IS NOT NEW.accepted_at
BEGIN
    UPDATE tallies SET n = n - 1, total = total - (OLD.accepted_at - OLD.created_at)
    WHERE OLD.accepted_at IS NOT NULL AND node_id = OLD.community_id
      AND month = strftime('%Y-%m', OLD.accepted_at / 1000 + 28800, 'unixepoch')
      AND figure = 'cases_accepted:' || OLD.kind;
    INSERT INTO tallies (node_id, month, figure, n, total)
    SELECT NEW.community_id, strftime('%Y-%m', NEW.accepted_at / 1000 + 28800, 'unixepoch'),
           'cases_accepted:' || NEW.kind, 1, NEW.accepted_at - NEW.created_at
    WHERE NEW.accepted_at IS NOT NULL
    ON CONFLICT (node_id, month, figure) DO UPDATE SET n = n + 1, total = total + excluded.total;
END;

CREATE TRIGGER tallies_cases_resolved AFTER UPDATE OF resolved_at ON cases
WHEN OLD.resolved_at IS NOT NEW.resolved_at
BEGIN
    UPDATE tallies SET n = n - 1, total = total - (OLD.resolved_at - OLD.created_at)
    WHERE OLD.resolved_at IS NOT NULL AND node_id = OLD.community_id
      AND month = strftime('%Y-%m', OLD.resolved_at / 1000 + 28800, 'unixepoch')
      AND figure = 'cases_resolved:' || OLD.kind;
    INSERT INTO tallies (node_id, month, figure, n, total)
    SELECT NEW.community_id, strftime('%Y-%m', NEW.resolved_at / 1000 + 28800, 'unixepoch'),
           'cases_resolved:' || NEW.kind, 1, NEW.resolved_at - NEW.created_at
    WHERE NEW.resolved_at IS NOT NULL
    ON CONFLICT (node_id, month, figure) DO UPDATE SET n = n + 1, total = total + excluded.total;
END;

CREATE TRIGGER tallies_cases_rated AFTER UPDATE OF rated_at, rating ON cases
WHEN OLD.rated_at IS NOT NEW.rated_at OR OLD.rating IS NOT NEW.rating
BEGIN
    UPDATE tallies SET n = n - 1, total = total - OLD.rating
    WHERE OLD.rated_at IS NOT NULL AND OLD.rating IS NOT NULL AND node_id = OLD.community_id
      AND month = strftime('%Y-%m', OLD.rated_at / 1000 + 28800, 'unixepoch')
      AND figure = 'cases_rated:' || OLD.kind;
    INSERT INTO tallies (node_id, month, figure, n, total)
    SELECT NEW.community_id, strftime('%Y-%m', NEW.rated_at / 1000 + 28800, 'unixepoch'),
           'cases_rated:' || NEW.kind, 1, NEW.rating
    WHERE NEW.rated_at IS NOT NULL AND NEW.rating IS NOT NULL
    ON CONFLICT (node_id, month, figure) DO UPDATE SET n = n + 1, total = total + excluded.total;
END;

CREATE TRIGGER tallies_cases_delete AFTER DELETE ON cases
BEGIN
    UPDATE tallies SET n = n - 1
    WHERE node_id = OLD.community_id AND month = strftime('%Y-%m', OLD.created_at / 1000 + 28800, 'unixepoch')
      AND figure = 'cases_filed:' || OLD.kind;
    UPDATE tallies SET n = n - 1, total = total - (OLD.accepted_at - OLD.created_at)
    WHERE OLD.accepted_at IS NOT NULL AND node_id = OLD.community_id
      AND month = strftime('%Y-%m', OLD.accepted_at / 1000 + 28800, 'unixepoch')
      AND figure = 'cases_accepted:' || OLD.kind;
    UPDATE tallies SET n = n - 1, total = total - (OLD.resolved_at - OLD.created_at)
    WHERE OLD.resolved_at IS NOT NULL AND node_id = OLD.community_id
      AND month = strftime('%Y-%m', OLD.resolved_at / 1000 + 28800, 'unixepoch')
      AND figure = 'cases_resolved:' || OLD.kind;
    UPDATE tallies SET n = n - 1, total = total - OLD.rating
    WHERE OLD.rated_at IS NOT NULL AND OLD.rating IS NOT NULL AND node_id = OLD.community_id
      AND month = strftime('%Y-%m', OLD.rated_at / 1000 + 28800, 'unixepoch')
      AND figure = 'cases_rated:' || OLD.kind;
END;

-- visits: per grid and month of the visit
CREATE TRIGGER tallies_visits_insert AFTER INSERT ON visits
BEGIN
    INSERT INTO tallies (node_id, month, figure, n, total)
    VALUES (NEW.grid_id, substr(NEW.visited_on, 1, 7), 'visits', 1, 0)
    ON CONFLICT (node_id, month, figure) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER tallies_visits_update AFTER UPDATE OF grid_id, visited_on ON visits
WHEN OLD.grid_id IS NOT NEW.grid_id OR OLD.visited_on IS NOT NEW.visited_on
BEGIN
    UPDATE tallies SET n = n - 1
    WHERE node_id = OLD.grid_id AND month = substr(OLD.visited_on, 1, 7) AND figure = 'visits';
    INSERT INTO tallies (node_id, month, figure, n, total)
    VALUES (NEW.grid_id, substr(NEW.visited_on, 1, 7), 'visits', 1, 0)
    ON CONFLICT (node_id, month, figure) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER tallies_visits_delete AFTER DELETE ON visits
BEGIN
    UPDATE tallies SET n = n - 1
    WHERE node_id = OLD.grid_id AND month = substr(OLD.visited_on, 1, 7) AND figure = 'visits';
END;

-- points: out of a community's pool (issued), into its shop (redeemed);
-- transfers are append-only
CREATE TRIGGER tallies_points_insert AFTER INSERT ON point_transfers
BEGIN
    INSERT INTO tallies (node_id, month, figure, n, total)
    SELECT a.community_id, substr(NEW.created_on, 1, 7), 'points_issued', 1, NEW.amount
    FROM point_accounts a WHERE a.id = NEW.debit_id AND a.kind = 'pool'
    ON CONFLICT (node_id, month, figure) DO UPDATE SET n = n + 1, total = total + excluded.total;
    INSERT INTO tallies (node_id, month, figure, n, total)
    SELECT a.community_id, substr(NEW.created_on, 1, 7), 'points_redeemed', 1, NEW.amount
    FROM point_accounts a WHERE a.id = NEW.credit_id AND a.kind = 'shop'
    ON CONFLICT (node_id, month, figure) DO UPDATE SET n = n + 1, total = total + excluded.total;
END;

-- What is there already is counted once after the migrations, by the
-- same statement that recounts (`store::tallies::rebuild`).
