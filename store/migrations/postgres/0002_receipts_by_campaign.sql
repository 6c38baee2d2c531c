-- A campaign's receipts in commit order (campaign reports page through them).
CREATE INDEX receipts_campaign ON receipts (campaign, seq) WHERE campaign IS NOT NULL;
