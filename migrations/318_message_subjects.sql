-- Up Migration

-- What an e-mail said besides its text (issue 23): the subject its template gave, and the language the
-- message went out in when the template is written per language (`zh`, `en`). NULL for messages
-- without (other channels, templates without a subject, rows written before these were kept).
ALTER TABLE outbox_messages ADD COLUMN subject text, ADD COLUMN language text;

-- Down Migration

ALTER TABLE outbox_messages DROP COLUMN subject, DROP COLUMN language;
