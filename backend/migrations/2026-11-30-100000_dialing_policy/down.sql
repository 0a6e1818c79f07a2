DROP TABLE outside_dials;
DROP TABLE dialing_policy;
