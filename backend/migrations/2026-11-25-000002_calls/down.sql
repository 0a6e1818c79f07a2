DROP TABLE call_events;
DROP TABLE transfers;
DROP TABLE participants;
DROP TABLE calls;
