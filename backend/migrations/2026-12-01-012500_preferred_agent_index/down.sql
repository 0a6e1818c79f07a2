DROP INDEX calls_preferred_agent_idx;
