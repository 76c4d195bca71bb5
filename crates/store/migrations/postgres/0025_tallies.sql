-- Monthly tallies for the dashboard and the reports, kept by triggers in the
-- same transaction as each change (see the SQLite migration for the
-- figures). Months are Beijing's (a fixed +08:00: no daylight saving since
-- 1991), written as the SQLite side writes them.
CREATE TABLE tallies (
    node_id BIGINT NOT NULL REFERENCES org_nodes (id),
    month TEXT NOT NULL,
    figure TEXT NOT NULL,
    n BIGINT NOT NULL,
    total BIGINT NOT NULL,
    PRIMARY KEY (node_id, month, figure)
);

CREATE FUNCTION tally_month(ms BIGINT) RETURNS TEXT
LANGUAGE sql IMMUTABLE AS $$ SELECT to_char(to_timestamp(ms / 1000 + 28800) AT TIME ZONE 'UTC', 'YYYY-MM') $$;

CREATE FUNCTION tally_add(node BIGINT, m TEXT, fig TEXT, dn BIGINT, dt BIGINT) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO tallies (node_id, month, figure, n, total) VALUES (node, m, fig, dn, dt)
    ON CONFLICT (node_id, month, figure) DO UPDATE SET n = tallies.n + excluded.n, total = tallies.total + excluded.total
$$;

CREATE FUNCTION tallies_cases() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        IF TG_OP = 'DELETE' THEN
            PERFORM tally_add(OLD.community_id, tally_month(OLD.created_at), 'cases_filed:' || OLD.kind, -1, 0);
        END IF;
        IF OLD.accepted_at IS NOT NULL AND (TG_OP = 'DELETE' OR OLD.accepted_at IS DISTINCT FROM NEW.accepted_at) THEN
            PERFORM tally_add(OLD.community_id, tally_month(OLD.accepted_at), 'cases_accepted:' || OLD.kind,
                              -1, -(OLD.accepted_at - OLD.created_at));
        END IF;
        IF OLD.resolved_at IS NOT NULL AND (TG_OP = 'DELETE' OR OLD.resolved_at IS DISTINCT FROM NEW.resolved_at) THEN
            PERFORM tally_add(OLD.community_id, tally_month(OLD.resolved_at), 'cases_resolved:' || OLD.kind,
                              -1, -(OLD.resolved_at - OLD.created_at));
        END IF;
        IF OLD.rated_at IS NOT NULL AND OLD.rating IS NOT NULL AND (TG_OP = 'DELETE'
            OR OLD.rated_at IS DISTINCT FROM NEW.rated_at OR OLD.rating IS DISTINCT FROM NEW.rating) THEN
            PERFORM tally_add(OLD.community_id, tally_month(OLD.rated_at), 'cases_rated:' || OLD.kind, -1, -OLD.rating);
        END IF;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM tally_add(NEW.community_id, tally_month(NEW.created_at), 'cases_filed:' || NEW.kind, 1, 0);
    END IF;
    IF NEW.accepted_at IS NOT NULL AND (TG_OP = 'INSERT' OR OLD.accepted_at IS DISTINCT FROM NEW.accepted_at) THEN
        PERFORM tally_add(NEW.community_id, tally_month(NEW.accepted_at), 'cases_accepted:' || NEW.kind,
                          1, NEW.accepted_at - NEW.created_at);
    END IF;
    IF NEW.resolved_at IS NOT NULL AND (TG_OP = 'INSERT' OR OLD.resolved_at IS DISTINCT FROM NEW.resolved_at) THEN
        PERFORM tally_add(NEW.community_id, tally_month(NEW.resolved_at), 'cases_resolved:' || NEW.kind,
                          1, NEW.resolved_at - NEW.created_at);
    END IF;
    IF NEW.rated_at IS NOT NULL AND NEW.rating IS NOT NULL AND (TG_OP = 'INSERT'
        OR OLD.rated_at IS DISTINCT FROM NEW.rated_at OR OLD.rating IS DISTINCT FROM NEW.rating) THEN
        PERFORM tally_add(NEW.community_id, tally_month(NEW.rated_at), 'cases_rated:' || NEW.kind, 1, NEW.rating);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER tallies_cases AFTER INSERT OR DELETE OR UPDATE OF accepted_at, resolved_at, rated_at, rating
    ON cases FOR EACH ROW EXECUTE FUNCTION tallies_cases();

CREATE FUNCTION tallies_visits() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM tally_add(OLD.grid_id, substr(OLD.visited_on, 1, 7), 'visits', -1, 0);
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    PERFORM tally_add(NEW.grid_id, substr(NEW.visited_on, 1, 7), 'visits', 1, 0);
    RETURN NEW;
END
$$;
CREATE TRIGGER tallies_visits AFTER INSERT OR DELETE OR UPDATE OF grid_id, visited_on
    ON visits FOR EACH ROW EXECUTE FUNCTION tallies_visits();

CREATE FUNCTION tallies_points() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    a RECORD;
BEGIN
    SELECT community_id, kind INTO a FROM point_accounts WHERE id = NEW.debit_id;
    IF a.kind = 'pool' THEN
        PERFORM tally_add(a.community_id, substr(NEW.created_on, 1, 7), 'points_issued', 1, NEW.amount);
    END IF;
    SELECT community_id, kind INTO a FROM point_accounts WHERE id = NEW.credit_id;
    IF a.kind = 'shop' THEN
        PERFORM tally_add(a.community_id, substr(NEW.created_on, 1, 7), 'points_redeemed', 1, NEW.amount);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER tallies_points AFTER INSERT ON point_transfers FOR EACH ROW EXECUTE FUNCTION tallies_points();

-- What is there already is counted once after the migrations, by the
-- same statement that recounts (`store::tallies::rebuild`).
