-- Service stations (党群服务站): their services, residents' appointments in
-- the slots of a service that takes them, and records of service given.
CREATE TABLE stations (
    id INTEGER PRIMARY KEY,
    community_id INTEGER NOT NULL REFERENCES org_nodes (id),
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    -- canonical opening hours: `1-5 08:30-11:30,14:00-17:30; 6 09:00-11:30`
    hours TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (community_id, name)
);

CREATE TABLE station_services (
    id INTEGER PRIMARY KEY,
    station_id INTEGER NOT NULL REFERENCES stations (id),
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    by_appointment BOOLEAN NOT NULL,
    -- for appointments: the slot length and the places in each slot
    slot_minutes INTEGER NOT NULL,
    capacity INTEGER NOT NULL,
    active BOOLEAN NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (station_id, name)
);

CREATE TABLE appointments (
    id INTEGER PRIMARY KEY,
    service_id INTEGER NOT NULL REFERENCES station_services (id),
    resident_id INTEGER NOT NULL REFERENCES residents (id),
    starts_at INTEGER NOT NULL,
    status TEXT NOT NULL,
    booked_at INTEGER NOT NULL,
    booked_by INTEGER REFERENCES users (id),
    changed_at INTEGER NOT NULL
);
CREATE INDEX appointments_slot ON appointments (service_id, starts_at);
CREATE INDEX appointments_resident ON appointments (resident_id, starts_at);

CREATE TABLE service_records (
    id INTEGER PRIMARY KEY,
    station_id INTEGER NOT NULL REFERENCES stations (id),
    service_id INTEGER NOT NULL REFERENCES station_services (id),
    -- a resident of the registry, or only a name for someone who is not
    resident_id INTEGER REFERENCES residents (id),
    person_name TEXT NOT NULL,
    appointment_id INTEGER UNIQUE REFERENCES appointments (id),
    given_at INTEGER NOT NULL,
    minutes INTEGER NOT NULL,
    note TEXT NOT NULL,
    recorded_by INTEGER REFERENCES users (id),
    recorded_at INTEGER NOT NULL
);
CREATE INDEX service_records_station ON service_records (station_id, given_at);
