-- An erasure empties what was sent to the person: found by address.
CREATE INDEX deliveries_to ON deliveries (address_ref);
